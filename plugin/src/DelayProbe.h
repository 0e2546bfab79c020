// The output delay of a model whose file does not state it (exports without nnplug metadata),
// measured with an impulse, as `nnplug inspect` does.
#pragma once

#include "ModelRunner.h"

#include <optional>

namespace nnplug {

// Runs two streams on a prepared runner: one fed silence, one fed an impulse at sample
// bufferSize(). The delay is where their outputs differ most, minus that start; nullopt when
// they do not differ after it (no response to an impulse). Both streams draw the same random
// numbers, so a stochastic model (RAVE's sampling) differs only by the impulse's effect. The
// runner's stream is left as it was after a reset. Off the audio thread; throws ModelError
// when the model fails.
std::optional<int> measureDelay (ModelRunner& runner);

} // namespace nnplug
