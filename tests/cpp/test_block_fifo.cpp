// BlockFifo on its own: buffers of exactly N handed to the stage, `latency` zeros first, and
// an underrun paid back by dropping as many later samples (alignment kept).
#include "BlockFifo.h"
#include "InferenceStage.h"

#include <gtest/gtest.h>

#include <vector>

using namespace nnplug;

namespace {

// Records each submitted buffer and pushes it back unchanged, or holds it back when told.
struct Loopback final : InferenceStage
{
    BlockFifo* fifo = nullptr;
    std::vector<float> buf;
    std::vector<std::vector<float>> submitted;
    bool holdBack = false;
    explicit Loopback (int n) : buf ((size_t) n) {}
    float* nextInput (bool) noexcept override { return buf.data(); }
    void submit() noexcept override
    {
        submitted.push_back (buf);
        if (holdBack) fifo->pushZeros(); else fifo->push (buf.data());
    }
    void collect (int, bool) noexcept override {}
    void restart() noexcept override {}
    bool failed() const noexcept override { return false; }
};

} // namespace

TEST (BlockFifo, HandsOnFullBuffersAndStartsWithLatencyZeros)
{
    const int n = 4, latency = 3;
    BlockFifo fifo (1, 1, n, latency, 8);
    Loopback stage (n);
    stage.fifo = &fifo;
    EXPECT_EQ (fifo.queued(), latency);
    std::vector<float> x { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    std::vector<float> y (x.size(), -1.0f);
    int pos = 0;
    for (int len : { 3, 3, 1, 3 })
    {
        const float* in[1] = { x.data() + pos };
        float* out[1] = { y.data() + pos };
        fifo.write (in, 0, len, stage, true);
        fifo.read (out, 0, len);
        pos += len;
    }
    ASSERT_EQ (stage.submitted.size(), 2u);
    EXPECT_EQ (stage.submitted[0], (std::vector<float> { 1, 2, 3, 4 }));
    EXPECT_EQ (stage.submitted[1], (std::vector<float> { 5, 6, 7, 8 }));
    EXPECT_EQ (y, (std::vector<float> { 0, 0, 0, 1, 2, 3, 4, 5, 6, 7 }));
    EXPECT_EQ (fifo.underrunSamples(), 0);
}

TEST (BlockFifo, UnderrunKeepsAlignment)
{
    const int n = 4;
    BlockFifo fifo (1, 1, n, 0, 8);   // no latency: a block not ending a buffer runs dry
    Loopback stage (n);
    stage.fifo = &fifo;
    std::vector<float> x (12), y (12, -1.0f);
    for (int t = 0; t < 12; ++t) x[(size_t) t] = (float) (t + 1);
    int pos = 0;
    for (int len : { 2, 2, 4, 4 })
    {
        const float* in[1] = { x.data() + pos };
        float* out[1] = { y.data() + pos };
        fifo.write (in, 0, len, stage, true);
        fifo.read (out, 0, len);
        pos += len;
    }
    EXPECT_EQ (fifo.underrunSamples(), 2);
    // the first two samples were owed as zeros: the next two produced are dropped
    EXPECT_EQ (y, (std::vector<float> { 0, 0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }));
}
