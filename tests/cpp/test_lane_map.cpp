// LaneMap: every case of the host-channel <-> model-lane rule (plugin/src/LaneMap.h).
#include "LaneMap.h"

#include <gtest/gtest.h>

#include <vector>

using namespace nnplug;

namespace {

constexpr int kLen = 3;

// Host channel ch holds ch + 1 + t / 10 at sample t; output lane l holds 100 (l + 1) + t.
std::vector<std::vector<float>> hostSignal (int channels)
{
    std::vector<std::vector<float>> x ((size_t) channels, std::vector<float> (kLen));
    for (int c = 0; c < channels; ++c)
        for (int t = 0; t < kLen; ++t) x[(size_t) c][(size_t) t] = (float) (c + 1) + 0.1f * (float) t;
    return x;
}

std::vector<std::vector<float>> laneSignal (int lanes)
{
    std::vector<std::vector<float>> x ((size_t) lanes, std::vector<float> (kLen));
    for (int l = 0; l < lanes; ++l)
        for (int t = 0; t < kLen; ++t) x[(size_t) l][(size_t) t] = 100.0f * (float) (l + 1) + (float) t;
    return x;
}

std::vector<const float*> pointers (const std::vector<std::vector<float>>& v)
{
    std::vector<const float*> p;
    for (auto& x : v) p.push_back (x.data());
    return p;
}

struct Mapped
{
    std::vector<std::vector<float>> means;
    std::vector<float*> meanPtr;
    std::vector<const float*> out;
    explicit Mapped (int count) : means ((size_t) count, std::vector<float> (kLen, -1.0f)), out ((size_t) count)
    {
        for (auto& m : means) meanPtr.push_back (m.data());
    }
    std::vector<float> at (int i) const { return std::vector<float> (out[(size_t) i], out[(size_t) i] + kLen); }
};

Mapped toLanes (const LaneMap& m, const std::vector<std::vector<float>>& host)
{
    Mapped r (m.inLanes());
    const auto p = pointers (host);
    m.toLanes (p.data(), kLen, r.out.data(), r.meanPtr.data());
    return r;
}

Mapped toHost (const LaneMap& m, const std::vector<std::vector<float>>& lanes)
{
    Mapped r (m.hostChannels());
    const auto p = pointers (lanes);
    m.toHost (p.data(), kLen, r.out.data(), r.meanPtr.data());
    return r;
}

} // namespace

TEST (LaneMap, MonoModelOnStereoHostPerChannelIsABatchOfTwo)
{
    LaneMap m (2, 1, 1, ChannelMode::PerChannel);
    EXPECT_EQ (m.batch(), 2);
    EXPECT_EQ (m.inLanes(), 2);
    EXPECT_EQ (m.outLanes(), 2);
    const auto host = hostSignal (2);
    const auto in = toLanes (m, host);
    EXPECT_EQ (in.out[0], host[0].data());   // no copy
    EXPECT_EQ (in.out[1], host[1].data());
    const auto lanes = laneSignal (2);
    const auto out = toHost (m, lanes);
    EXPECT_EQ (out.out[0], lanes[0].data());
    EXPECT_EQ (out.out[1], lanes[1].data());
}

TEST (LaneMap, PerChannelTakesTheFirstOutputChannelOfEachStream)
{
    LaneMap m (2, 1, 3, ChannelMode::PerChannel);   // mono in, three channels out
    EXPECT_EQ (m.batch(), 2);
    EXPECT_EQ (m.outLanes(), 6);
    EXPECT_EQ (m.outputSource (0), 0);
    EXPECT_EQ (m.outputSource (1), 3);
}

TEST (LaneMap, MonoModelOnStereoHostDownmixIsTheMean)
{
    LaneMap m (2, 1, 1, ChannelMode::Downmix);
    EXPECT_EQ (m.batch(), 1);
    EXPECT_EQ (m.inputSource (0), LaneMap::kMean);
    const auto host = hostSignal (2);
    const auto in = toLanes (m, host);
    for (int t = 0; t < kLen; ++t)
    {
        float s = 0;
        s += host[0][(size_t) t];
        s += host[1][(size_t) t];
        EXPECT_EQ (in.at (0)[(size_t) t], s / 2.0f);   // float32, in channel order, then / H
    }
    // the mono output goes to both channels
    const auto lanes = laneSignal (1);
    const auto out = toHost (m, lanes);
    EXPECT_EQ (out.out[0], lanes[0].data());
    EXPECT_EQ (out.out[1], lanes[0].data());
}

TEST (LaneMap, StereoModelOnStereoHostIsOneToOne)
{
    for (auto mode : { ChannelMode::PerChannel, ChannelMode::Downmix })
    {
        LaneMap m (2, 2, 2, mode);
        EXPECT_EQ (m.batch(), 1);
        for (int i = 0; i < 2; ++i)
        {
            EXPECT_EQ (m.inputSource (i), i);
            EXPECT_EQ (m.outputSource (i), i);
        }
    }
}

TEST (LaneMap, StereoModelOnMonoHostReadsTheChannelTwiceAndPlaysTheMean)
{
    LaneMap m (1, 2, 2, ChannelMode::PerChannel);
    EXPECT_EQ (m.batch(), 1);
    EXPECT_EQ (m.inputSource (0), 0);
    EXPECT_EQ (m.inputSource (1), 0);
    EXPECT_EQ (m.outputSource (0), LaneMap::kMean);
    const auto lanes = laneSignal (2);
    const auto out = toHost (m, lanes);
    for (int t = 0; t < kLen; ++t)
        EXPECT_EQ (out.at (0)[(size_t) t], (lanes[0][(size_t) t] + lanes[1][(size_t) t]) / 2.0f);
}

TEST (LaneMap, MonoModelOnMonoHost)
{
    LaneMap m (1, 1, 1, ChannelMode::PerChannel);
    EXPECT_EQ (m.batch(), 1);
    EXPECT_EQ (m.inputSource (0), 0);
    EXPECT_EQ (m.outputSource (0), 0);
}

TEST (LaneMap, WiderModelThanHost)
{
    // four channels in and out on a stereo host: inputs cycle, outputs past the host dropped
    LaneMap m (2, 4, 4, ChannelMode::PerChannel);
    for (int lane = 0; lane < 4; ++lane) EXPECT_EQ (m.inputSource (lane), lane % 2);
    EXPECT_EQ (m.outputSource (0), 0);
    EXPECT_EQ (m.outputSource (1), 1);
}

TEST (LaneMap, NarrowerModelThanHostOutputsTheMean)
{
    // two channels out on four host channels (1 < co < H): every channel gets the mean
    LaneMap m (4, 4, 2, ChannelMode::PerChannel);
    for (int ch = 0; ch < 4; ++ch) EXPECT_EQ (m.outputSource (ch), LaneMap::kMean);
    // two channels in on four: the first two host channels are read
    LaneMap n (4, 2, 2, ChannelMode::PerChannel);
    EXPECT_EQ (n.inputSource (0), 0);
    EXPECT_EQ (n.inputSource (1), 1);
}

TEST (LaneMap, StereoInMonoOutOnStereoHost)
{
    LaneMap m (2, 2, 1, ChannelMode::PerChannel);
    EXPECT_EQ (m.batch(), 1);
    EXPECT_EQ (m.outputSource (0), 0);
    EXPECT_EQ (m.outputSource (1), 0);
}
