// The re-blocking FIFO: host blocks of any size in, model buffers of exactly N samples out to
// an inference stage, and the output FIFO that gives the results back at a fixed latency.
//
// Invariant: the output for input sample t comes out at host sample t + latency, always. The
// output FIFO starts with `latency` zeros; each model buffer adds N samples; each host block
// takes as many as it gives. If it runs dry anyway (a host block breaking the promised
// schedule, or a late worker in real time), the missing samples are zeros and the same number
// of later samples is dropped, so alignment never drifts.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

namespace nnplug {

class InferenceStage;

class BlockFifo
{
public:
    // `maxBlock`: the largest block read() is given (the caller splits larger ones).
    BlockFifo (int inLanes, int outLanes, int bufferSize, int latency, int maxBlock);

    // Copies `len` samples per input lane (from in[lane] + offset) into the stage's buffers,
    // submitting each one that fills up.
    void write (const float* const* in, int offset, int len, InferenceStage& stage, bool offline) noexcept;

    // One model buffer of output, N samples per lane ([lane][N]), or N zeros per lane.
    void push (const float* lanes) noexcept;
    void pushZeros() noexcept;

    // Output samples waiting to be read.
    int queued() const noexcept { return count; }

    // `len` samples per output lane into out[lane] + offset; zeros for any missing (an underrun).
    void read (float* const* out, int offset, int len) noexcept;

    // Empty input buffer, output FIFO refilled with `latency` zeros.
    void reset() noexcept;

    int64_t underrunSamples() const { return underruns.load (std::memory_order_relaxed); }

private:
    int inLanes, outLanes, n, lat;
    float* current = nullptr;   // the input buffer being filled
    int fill = 0;               // samples written into it
    std::vector<float> ring;    // [outLane][cap]
    int cap = 0, rd = 0, count = 0;
    int64_t deficit = 0;        // samples owed as zeros: drop this many of the next produced
    std::atomic<int64_t> underruns { 0 };

    int takeDeficit() noexcept;   // how much of the next buffer to drop
};

} // namespace nnplug
