// ModelRunner: the contract it reads, the shape contract checked at prepare(), and run()'s
// refusals (exceptions, non-finite output) as return values.
#include "ModelRunner.h"
#include "engine_support.h"

#include <gtest/gtest.h>

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
