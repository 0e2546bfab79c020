// InferenceWorker: buffers processed on the worker thread reach the FIFO in order; offline the
// audio thread waits for them (deterministic); a restart resets the model before the next
// buffer; a failure is sticky and its buffers become zeros.
#include "InferenceWorker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

using namespace nnplug;

namespace {

// Doubles its input; fails from call `failAt` on (never when negative).
struct Doubler : BufferProcessor
{
    int n;
    int failAt = -1;
    std::atomic<int> calls { 0 }, resets { 0 };
    explicit Doubler (int size) : n (size) {}
    bool processBuffer (const float* in, float* out) noexcept override
    {
        if (failAt >= 0 && calls.load() >= failAt) return false;
        ++calls;
        for (int i = 0; i < n; ++i) out[i] = 2.0f * in[i];
        return true;
    }
    bool resetStream() noexcept override { ++resets; return true; }
};

// Writes `count` buffers of the ramp 1, 2, ... and collects them offline; returns the FIFO's output.
std::vector<float> runOffline (InferenceWorker& w, BlockFifo& fifo, int n, int count)
{
    std::vector<float> out;
    for (int b = 0; b < count; ++b)
    {
        float* in = w.nextInput (true);
        for (int i = 0; i < n; ++i) in[i] = (float) (b * n + i + 1);
        w.submit();
    }
    w.collect (fifo.queued() + count * n, true);
    std::vector<float> y ((size_t) fifo.queued());
    float* o[1] = { y.data() };
    fifo.read (o, 0, (int) y.size());
    return y;
}

} // namespace

TEST (InferenceWorker, OfflineResultsArriveInOrder)
{
    const int n = 8;
    BlockFifo fifo (1, 1, n, 0, 64);
    Doubler proc (n);
    InferenceWorker w (fifo, proc, 1, 1, n);
    const auto y = runOffline (w, fifo, n, 3);   // 3 buffers: within the worker's slots
    ASSERT_EQ (y.size(), 3u * n);
    for (int t = 0; t < 3 * n; ++t) ASSERT_EQ (y[(size_t) t], 2.0f * (float) (t + 1)) << t;
    EXPECT_EQ (w.overruns(), 0);
    EXPECT_FALSE (w.failed());
}

TEST (InferenceWorker, RestartResetsBeforeTheNextBuffer)
{
    const int n = 8;
    BlockFifo fifo (1, 1, n, 0, 64);
    Doubler proc (n);
    InferenceWorker w (fifo, proc, 1, 1, n);
    runOffline (w, fifo, n, 1);
    EXPECT_EQ (proc.resets.load(), 0);
    w.restart();
    fifo.reset();
    runOffline (w, fifo, n, 1);
    EXPECT_EQ (proc.resets.load(), 1);
}

TEST (InferenceWorker, FailureIsStickyAndGivesZeros)
{
    const int n = 8;
    BlockFifo fifo (1, 1, n, 0, 64);
    Doubler proc (n);
    proc.failAt = 1;
    InferenceWorker w (fifo, proc, 1, 1, n);
    const auto y = runOffline (w, fifo, n, 3);
    ASSERT_EQ (y.size(), 3u * n);
    EXPECT_TRUE (w.failed());
    for (int t = 0; t < n; ++t) EXPECT_EQ (y[(size_t) t], 2.0f * (float) (t + 1));
    for (int t = n; t < 3 * n; ++t) EXPECT_EQ (y[(size_t) t], 0.0f);
}
