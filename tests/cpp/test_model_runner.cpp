// ModelRunner: the contract it reads, the shape contract checked at prepare(), and run()'s
// refusals (exceptions, non-finite output) as return values.
#include "ModelRunner.h"
#include "engine_support.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

using namespace nnplug;
using namespace nnplug::test;

TEST (ModelRunner, ReadsContract)
{
    ModelRunner m (models + "/delay_stereo.ts");
    const auto& info = m.info();
    EXPECT_EQ (info.format, "nnplug");
    EXPECT_EQ (info.name, "delay_stereo");
    EXPECT_EQ (info.sampleRate, 44100);
    EXPECT_EQ (info.ratio, 4);
    EXPECT_EQ (info.delay, kModelDelay);
    EXPECT_TRUE (info.delayKnown);
    EXPECT_TRUE (info.hasReset);
    EXPECT_EQ (info.inChannels(), 2);
    EXPECT_EQ (info.outChannels(), 2);
    EXPECT_FALSE (info.latentPath);
}

TEST (ModelRunner, PrepareChecksTheShapeContract)
{
    EXPECT_THROW (ModelRunner (models + "/does_not_exist.ts"), ModelError);
    ModelRunner wrong (models + "/wrong_shape.ts");
    try
    {
        wrong.prepare (1, 64);
        FAIL() << "wrong shape accepted";
    }
    catch (const ModelError& e)
    {
        EXPECT_NE (std::string (e.what()).find ("shape"), std::string::npos) << e.what();
    }
    ModelRunner m (models + "/delay_mono.ts");
    EXPECT_THROW (m.prepare (1, 6), ModelError);   // not a multiple of the ratio (4)
    EXPECT_THROW (m.prepare (0, 64), ModelError);
}

TEST (ModelRunner, RunsOnTheCallersBuffersInBatches)
{
    ModelRunner m (models + "/delay_mono.ts");   // y = x[t - 7] + 0.25 x[t - 8]
    m.prepare (2, 64);
    EXPECT_EQ (m.inLanes(), 2);
    EXPECT_EQ (m.outLanes(), 2);
    std::vector<float> in (128, 0.0f), out (128, -1.0f);
    in[0] = 1.0f;        // stream 0
    in[64 + 3] = 2.0f;   // stream 1
    ASSERT_TRUE (m.run (in.data(), out.data())) << m.lastError();
    EXPECT_EQ (out[(size_t) kModelDelay], 1.0f);
    EXPECT_EQ (out[(size_t) kModelDelay + 1], 0.25f);
    EXPECT_EQ (out[64 + 3 + (size_t) kModelDelay], 2.0f);
}

TEST (ModelRunner, FailuresAreReturnedNotThrown)
{
    ModelRunner m (models + "/nan.ts");
    m.prepare (1, 64);   // its first buffers work
    std::vector<float> in (64, 0.5f), out (64);
    bool ok = true;
    for (int i = 0; i < 10 && ok; ++i)
        ok = m.run (in.data(), out.data());
    EXPECT_FALSE (ok);
    EXPECT_NE (m.lastError().find ("NaN"), std::string::npos) << m.lastError();
}

TEST (ModelRunner, ResetRestoresTheStateOfAFileWithoutReset)
{
    // no_reset.ts keeps its past in a submodule's buffer, which it replaces as it plays, and has
    // no reset(): the runner's reset puts back the buffers it copied at load.
    ModelRunner m (models + "/no_reset.ts");
    ASSERT_FALSE (m.info().hasReset);
    m.prepare (2, 64);   // a batch other than the cache's (1): the file replaces its buffer
    std::vector<float> in (2 * 64, 0.0f), first (2 * 64), second (2 * 64), again (2 * 64), after (2 * 64);
    in[63] = 1.0f;        // at the end of the first buffer: its echo comes in the next one
    in[64 + 63] = 0.5f;
    const std::vector<float> silence (2 * 64, 0.0f);
    ASSERT_TRUE (m.run (in.data(), first.data()));
    ASSERT_TRUE (m.run (silence.data(), second.data()));
    EXPECT_EQ (second[(size_t) kModelDelay - 1], 1.0f);   // the state carried across the calls
    ASSERT_TRUE (m.resetStream());
    ASSERT_TRUE (m.run (silence.data(), after.data()));
    for (float v : after)
        ASSERT_EQ (v, 0.0f);   // nothing of the last stream is left
    ASSERT_TRUE (m.resetStream());
    ASSERT_TRUE (m.run (in.data(), again.data()));
    EXPECT_EQ (again, first);
}

TEST (ModelRunner, ModelControlValuesMatchTheContract)
{
    // The same table as tests/python/test_foreign_files.py::test_control_values: the parameter's
    // 0.5 is the model's default, 0..0.5 spans lo..default and 0.5..1 default..hi.
    ControlSpec gain { "gain", "attribute", "float", "", 1.0, 0.0, 2.0 };
    EXPECT_EQ (gain.valueAt (0.5f), 1.0);
    EXPECT_EQ (gain.valueAt (0.25f), 0.5);
    EXPECT_EQ (gain.valueAt (0.75f), 1.5);
    EXPECT_EQ (gain.valueAt (1.0f), 2.0);
    EXPECT_EQ (gain.valueAt (std::numeric_limits<float>::quiet_NaN()), 1.0);
    ControlSpec steps { "steps", "attribute", "int", "", 3.0, 0.0, 6.0 };
    EXPECT_EQ (steps.valueAt (0.6f), 4.0);    // 3.6 rounds half up
    EXPECT_EQ (steps.valueAt (0.1f), 1.0);    // 0.6
    ControlSpec off { "invert", "attribute", "bool", "", 0.0, 0.0, 1.0 };
    EXPECT_EQ (off.valueAt (0.5f), 0.0);
    EXPECT_EQ (off.valueAt (0.7f), 0.0);      // 0.4 of the range
    EXPECT_EQ (off.valueAt (0.75f), 1.0);
    ControlSpec knob { "mix", "knob", "float", "", 0.3f, 0.0, 1.0 };
    EXPECT_EQ (knob.valueAt (0.5f), (double) 0.3f);
    EXPECT_EQ (knob.valueAt (0.0f), 0.0);
}
