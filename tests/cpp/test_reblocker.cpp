// Re-blocking and latency math with a simple real processor (it copies input to output and
// counts its calls), for many host block sequences.
#include "Reblocker.h"

#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <vector>

using namespace nnplug;

namespace {

struct Copy : BufferProcessor
{
    int lanes, n;
    int calls = 0, resets = 0;
    Copy (int l, int size) : lanes (l), n (size) {}
    bool processBuffer (const float* in, float* out) noexcept override
    {
        ++calls;
        // lane l gets input lane l scaled by (l + 1): proves lanes are not mixed up
        for (int l = 0; l < lanes; ++l)
            for (int i = 0; i < n; ++i)
                out[l * n + i] = in[l * n + i] * (float) (l + 1);
        return true;
    }
    bool resetStream() noexcept override { ++resets; return true; }
};

// Feeds a ramp through the re-blocker in the given block sequence; checks that output t is
// input t - latency exactly, with no underrun.
void checkSequence (int N, InferenceMode mode, int hostBlock, const std::vector<int>& blocks, bool offline = true)
{
    const int lanes = 2;
    const int maxBlock = *std::max_element (blocks.begin(), blocks.end());
    Copy proc (lanes, N);
    ReblockerConfig cfg;
    cfg.inLanes = cfg.outLanes = lanes;
    cfg.bufferSize = N;
    cfg.maxBlock = maxBlock;
    cfg.hostBlock = hostBlock;
    cfg.mode = mode;
    Reblocker rb (cfg, proc);
    const int L = rb.latency();
    ASSERT_EQ (L, bufferingLatency (N, hostBlock, mode));

    const int total = std::accumulate (blocks.begin(), blocks.end(), 0);
    std::vector<float> x ((size_t) total), y0 ((size_t) total), y1 ((size_t) total);
    for (int t = 0; t < total; ++t) x[(size_t) t] = (float) (t + 1);
    int pos = 0;
    for (int b : blocks)
    {
        const float* in[2] = { x.data() + pos, x.data() + pos };
        float* out[2] = { y0.data() + pos, y1.data() + pos };
        rb.process (in, out, b, offline);
        pos += b;
    }
    EXPECT_EQ (rb.underrunSamples(), 0) << "N=" << N << " B=" << hostBlock;
    for (int t = 0; t < total; ++t)
    {
        const float want = t < L ? 0.0f : x[(size_t) (t - L)];
        ASSERT_EQ (y0[(size_t) t], want) << "t=" << t << " N=" << N << " latency=" << L;
        ASSERT_EQ (y1[(size_t) t], 2.0f * want) << "t=" << t;
    }
}

} // namespace

TEST (LatencyMath, Formula)
{
    EXPECT_EQ (bufferingLatency (512, 512, InferenceMode::Synchronous), 0);
    EXPECT_EQ (bufferingLatency (512, 256, InferenceMode::Synchronous), 256);
    EXPECT_EQ (bufferingLatency (512, 100, InferenceMode::Synchronous), 508);   // gcd 4
    EXPECT_EQ (bufferingLatency (512, 1, InferenceMode::Synchronous), 511);
    EXPECT_EQ (bufferingLatency (512, 4096, InferenceMode::Synchronous), 0);
    EXPECT_EQ (bufferingLatency (512, 0, InferenceMode::Synchronous), 511);     // any sequence
    EXPECT_EQ (bufferingLatency (512, 0, InferenceMode::Worker), 1023);
    EXPECT_EQ (bufferingLatency (1024, 333, InferenceMode::Worker), 1023 + 1024);
}

TEST (Reblocker, FixedBlocksAtGcdLatency)
{
    for (int N : { 64, 512, 1024 })
        for (int B : { 1, 32, 64, 100, 256, 333, 512, 1000, 2048, 4096 })
            for (auto mode : { InferenceMode::Synchronous, InferenceMode::Worker })
                checkSequence (N, mode, B, std::vector<int> ((size_t) std::max (3, 3 * N / B + 3), B));
}

TEST (Reblocker, AnySequenceAtNMinusOne)
{
    std::mt19937 rng (1234);
    for (int N : { 64, 512, 1024 })
        for (int trial = 0; trial < 20; ++trial)
        {
            std::uniform_int_distribution<int> size (1, trial % 2 ? 50 : 3000);
            std::vector<int> blocks;
            for (int i = 0; i < 60; ++i) blocks.push_back (size (rng));
            checkSequence (N, InferenceMode::Synchronous, 0, blocks);
            checkSequence (N, InferenceMode::Worker, 0, blocks);
        }
}

TEST (Reblocker, BlocksLargerThanPreparedAreSplit)
{
    // maxBlock is 100 but the host sends 1000: still aligned (latency for any sequence).
    Copy proc (1, 64);
    ReblockerConfig cfg;
    cfg.bufferSize = 64;
    cfg.maxBlock = 100;
    Reblocker rb (cfg, proc);
    std::vector<float> x (1000), y (1000);
    std::iota (x.begin(), x.end(), 1.0f);
    const float* in[1] = { x.data() };
    float* out[1] = { y.data() };
    rb.process (in, out, 1000, true);
    for (int t = rb.latency(); t < 1000; ++t)
        ASSERT_EQ (y[(size_t) t], x[(size_t) (t - rb.latency())]);
}

TEST (Reblocker, ScheduleBreakKeepsAlignment)
{
    // Promised fixed blocks of 64 with N = 256 (latency 192), then a block of 100 breaks
    // the schedule: missing samples come out as zeros, and everything after is still aligned.
    Copy proc (1, 256);
    ReblockerConfig cfg;
    cfg.bufferSize = 256;
    cfg.maxBlock = 100;
    cfg.hostBlock = 64;
    Reblocker rb (cfg, proc);
    const int L = rb.latency();
    std::vector<int> blocks { 64, 64, 100, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64 };
    const int total = std::accumulate (blocks.begin(), blocks.end(), 0);
    std::vector<float> x ((size_t) total), y ((size_t) total);
    std::iota (x.begin(), x.end(), 1.0f);
    int pos = 0;
    for (int b : blocks)
    {
        const float* in[1] = { x.data() + pos };
        float* out[1] = { y.data() + pos };
        rb.process (in, out, b, true);
        pos += b;
    }
    EXPECT_GT (rb.underrunSamples(), 0);
    int zeros = 0;
    for (int t = L; t < total; ++t)
    {
        if (y[(size_t) t] == 0.0f) { ++zeros; continue; }
        ASSERT_EQ (y[(size_t) t], x[(size_t) (t - L)]) << "t=" << t;
    }
    EXPECT_EQ (zeros, rb.underrunSamples());
}

TEST (Reblocker, RestartRefillsAndResets)
{
    Copy proc (1, 64);
    ReblockerConfig cfg;
    cfg.bufferSize = 64;
    cfg.maxBlock = 64;
    Reblocker rb (cfg, proc);
    std::vector<float> x (64, 1.0f), y (64);
    const float* in[1] = { x.data() };
    float* out[1] = { y.data() };
    for (int i = 0; i < 4; ++i) rb.process (in, out, 64, true);
    rb.restart();
    EXPECT_EQ (proc.resets, 1);
    rb.process (in, out, 64, true);
    for (int t = 0; t < rb.latency(); ++t)
        ASSERT_EQ (y[(size_t) t], 0.0f);   // the stream starts again from silence
}
