// The output delay of a model whose file does not state it (exports without nnplug metadata),
// measured with an impulse by the rule python/nnplug/player.py's measure_delay holds, so that
// the plugin, `nnplug inspect` and `nnplug stage` find the same value on every load.
#pragma once

#include "ModelRunner.h"

#include <optional>
#include <vector>

namespace nnplug {

// Samples listened to after the impulse (at least 8 buffers): RAVE v2-sized models answer
// within about 12k samples. player.py's DELAY_WINDOW.
constexpr int kDelayWindow = 65536;

// Prepares the runner for one stream at its Auto buffer N, then runs two streams from the
// stream's start at kMeasureSeed: one fed silence, one fed an impulse at sample N (one buffer
// in), so the noise a stochastic model (RAVE) draws is the same in both and cancels. The delay
// is where half of the energy of their difference has arrived, counted from the impulse: a
// peak would jump between the lobes of an untrained model's spread response. nullopt when the
// impulse changes nothing. The runner is left prepared at (1, N), its stream at its start;
// torch's default generator is as it was. Off the audio thread; throws ModelError when the
// model fails.
std::optional<int> measureDelay (ModelRunner& runner);

// The index, minus `start`, where the running sum of `energy` first reaches half its total;
// nullopt when the total is not positive (player.py's energy_median).
std::optional<int> energyMedian (const std::vector<double>& energy, int start);

} // namespace nnplug
