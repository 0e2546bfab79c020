// What the block FIFO hands full model buffers to, and the synchronous stage: the model runs
// on the audio thread as soon as a buffer is full. InferenceWorker.h is the other stage.
#pragma once

#include "BlockFifo.h"

#include <atomic>
#include <cstdint>
#include <vector>

namespace nnplug {

enum class InferenceMode { Synchronous = 0, Worker = 1 };

// What runs the buffers: a model (or anything else) that maps N input samples per lane to N
// output samples per lane. Lanes are laid out [lane][N], contiguous.
class BufferProcessor
{
public:
    virtual ~BufferProcessor() = default;
    virtual bool processBuffer (const float* in, float* out) noexcept = 0;
    virtual bool resetStream() noexcept = 0;
};

// Takes each full input buffer and pushes its output buffer (or zeros) into the block FIFO,
// in order. Audio thread, except where the worker says otherwise.
class InferenceStage
{
public:
    virtual ~InferenceStage() = default;
    // Where the next buffer's N samples per input lane go.
    virtual float* nextInput (bool offline) noexcept = 0;
    // That buffer is full.
    virtual void submit() noexcept = 0;
    // Before the FIFO is read for a block of `wanted` samples: bring in finished buffers.
    virtual void collect (int wanted, bool offline) noexcept = 0;
    // A new stream: the model's state is reset before the next buffer.
    virtual void restart() noexcept = 0;
    // Sticky: the processor returned false once; its buffers are zeros from then on.
    virtual bool failed() const noexcept = 0;
    // Buffers dropped because the stage was too far behind (worker only).
    virtual int64_t overruns() const noexcept { return 0; }
    // Off the audio thread: returns once no buffer is being computed (a worker's last buffers
    // of a stream may still run after the audio thread moved on). Synchronous: nothing runs.
    virtual void waitUntilIdle() const noexcept {}
};

class SynchronousInference final : public InferenceStage
{
public:
    SynchronousInference (BlockFifo& output, BufferProcessor& processor, int inLanes, int outLanes, int bufferSize)
        : fifo (output), proc (processor),
          in ((size_t) inLanes * (size_t) bufferSize, 0.0f), out ((size_t) outLanes * (size_t) bufferSize, 0.0f)
    {
    }

    float* nextInput (bool) noexcept override { return in.data(); }

    void submit() noexcept override
    {
        if (! failed() && proc.processBuffer (in.data(), out.data()))
            fifo.push (out.data());
        else
        {
            hasFailed.store (true, std::memory_order_release);
            fifo.pushZeros();
        }
    }

    void collect (int, bool) noexcept override {}

    void restart() noexcept override
    {
        if (! failed() && ! proc.resetStream())
            hasFailed.store (true, std::memory_order_release);
    }

    bool failed() const noexcept override { return hasFailed.load (std::memory_order_acquire); }

private:
    BlockFifo& fifo;
    BufferProcessor& proc;
    std::vector<float> in, out;
    std::atomic<bool> hasFailed { false };
};

} // namespace nnplug
