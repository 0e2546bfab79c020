// EngineSwitch: engines handed to the audio thread and swapped with a crossfade, without
// allocating or blocking there.
#include "EngineSwitch.h"
#include "allocations.h"
#include "engine_support.h"

#include <gtest/gtest.h>

#include <vector>

using namespace nnplug;
using namespace nnplug::test;

TEST (EngineSwitch, CrossfadeWithoutBlockingAndRestartSwapsAtOnce)
{
    Controls c;
    EngineConfig cfg;
    cfg.maxBlock = 64;
    cfg.bufferSize = 64;
    cfg.hostChannels = 1;
    EngineSwitch sw;
    sw.prepare (1, 64, 128);
    sw.installNow (makeEngine ("delay_mono.ts", cfg, c).release());
    Engine* first = sw.current();
    std::vector<float> x (64, 0.5f);
    float* io[1] = { x.data() };
    sw.process (io, 1, 64, false);
    sw.offer (makeEngine ("delay_mono.ts", cfg, c).release());
    countAllocations (true);
    resetAllocations();
    for (int i = 0; i < 4; ++i) { std::fill (x.begin(), x.end(), 0.5f); sw.process (io, 1, 64, false); }
    countAllocations (false);
    EXPECT_NE (sw.current(), first);
    EXPECT_FALSE (sw.fading());
    sw.collect();
    // At a restart a pending engine takes over with no fade.
    sw.offer (makeEngine ("delay_stereo.ts", cfg, c).release());
    sw.requestRestart();
    sw.process (io, 1, 64, true);
    EXPECT_EQ (sw.current()->info().name, "delay_stereo");
    EXPECT_FALSE (sw.fading());
}

// An engine offered before any audio was processed (a state restored after prepareToPlay,
// before playback) takes over at once: there is no stream to crossfade from.
TEST (EngineSwitch, OfferBeforeFirstBlockTakesOverAtOnce)
{
    Controls c;
    EngineConfig cfg;
    cfg.maxBlock = 64;
    cfg.bufferSize = 64;
    cfg.hostChannels = 1;
    EngineSwitch sw;
    sw.prepare (1, 64, 128);
    sw.installNow (makeEngine ("delay_mono.ts", cfg, c).release());
    sw.offer (makeEngine ("delay_stereo.ts", cfg, c).release());
    std::vector<float> x (64, 0.5f);
    float* io[1] = { x.data() };
    sw.process (io, 1, 64, true);
    EXPECT_EQ (sw.current()->info().name, "delay_stereo");
    EXPECT_FALSE (sw.fading());
    // once playing, an offer crossfades
    sw.collect();
    sw.offer (makeEngine ("delay_mono.ts", cfg, c).release());
    sw.process (io, 1, 64, true);
    EXPECT_TRUE (sw.fading());
}
