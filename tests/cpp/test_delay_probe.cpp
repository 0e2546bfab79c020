// DelayProbe: the delay of exports without nnplug metadata, measured with an impulse.
#include <torch/script.h>
#include <ATen/CPUGeneratorImpl.h>

#include "DelayProbe.h"
#include "engine_support.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

using namespace nnplug;
using namespace nnplug::test;

TEST (DelayProbe, DelayOfExportsWithoutMetadataIsMeasured)
{
    // tests/fixtures/make_models.py: RAVE v2-like files (no nnplug metadata), delay 7; one of
    // them adds unseeded noise to every output sample, as RAVE's sampling does.
    for (const char* file : { "nometa_delay.ts", "rave_like_noisy.ts" })
    {
        ModelRunner probe (models + "/" + file);
        EXPECT_EQ (probe.info().format, "rave-v2");
        EXPECT_FALSE (probe.info().delayKnown);   // nothing in the file says it
        Controls c;
        EngineConfig cfg;
        cfg.maxBlock = 64;
        cfg.bufferSize = 256;
        cfg.hostChannels = 1;
        auto e = makeEngine (file, cfg, c);
        EXPECT_TRUE (e->info().delayMeasured) << file;
        EXPECT_EQ (e->modelDelay(), kModelDelay) << file;
        EXPECT_EQ (e->latency(), 255 + kModelDelay) << file;
        EXPECT_NE (e->warning().find ("measured"), std::string::npos) << e->warning();
        if (std::string (file) == "nometa_delay.ts")
        {
            // and the measured latency is the true one: an impulse comes out exactly there
            auto y = render (*e, impulse (1, 2000, 100), { 64 });
            EXPECT_EQ (y[0][(size_t) (100 + e->latency())], 1.0f);
            EXPECT_EQ (y[0][(size_t) (101 + e->latency())], 0.25f);
        }
    }
}

TEST (DelayProbe, EnergyMedianIsTheRuleThePythonSideUses)
{
    // tests/python/test_foreign_files.py::test_energy_median holds the same numbers
    std::vector<double> e (100, 0.0);
    e[40] = 1.0;
    e[60] = 3.0;
    EXPECT_EQ (energyMedian (e, 10), 50);
    EXPECT_EQ (energyMedian (std::vector<double> (5, 0.0), 0), std::nullopt);
}

TEST (DelayProbe, MeasuringLeavesTheGeneratorAsItWas)
{
    // The noisy RAVE-like file draws from torch's default generator: a measurement seeds it and
    // puts it back, so a host's own draws (Python's, in pedalboard) are not disturbed.
    ModelRunner runner (models + "/rave_like_noisy.ts");
    const auto before = at::detail::getDefaultCPUGenerator().get_state();
    const auto first = measureDelay (runner);
    EXPECT_TRUE (torch::equal (at::detail::getDefaultCPUGenerator().get_state(), before));
    EXPECT_EQ (first, std::optional<int> (kModelDelay));
    EXPECT_EQ (measureDelay (runner), first);   // the same on every measurement
}
