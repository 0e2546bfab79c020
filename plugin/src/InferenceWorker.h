// Inference on a thread of its own: the audio thread only copies, and signals with C++20
// semaphores (no lock, no allocation, nothing POSIX-only). Buffers go through a ring of
// kSlots slots (Free -> Queued -> Done/Failed -> Free); results reach the block FIFO in order.
// The FIFO's latency must hold one more buffer than synchronous inference, so that the worker
// has a full buffer period to finish. In real time the audio thread never waits: a buffer
// with no free slot is dropped and its output becomes zeros, in order. In offline rendering
// the audio thread waits for the worker instead, so renders are deterministic.
#pragma once

#include "InferenceStage.h"

#include <atomic>
#include <semaphore>
#include <thread>
#include <vector>

namespace nnplug {

class InferenceWorker final : public InferenceStage
{
public:
    InferenceWorker (BlockFifo& fifo, BufferProcessor& processor, int inLanes, int outLanes, int bufferSize);
    ~InferenceWorker() override;   // joins the thread
    InferenceWorker (const InferenceWorker&) = delete;
    InferenceWorker& operator= (const InferenceWorker&) = delete;

    float* nextInput (bool offline) noexcept override;
    void submit() noexcept override;
    void collect (int wanted, bool offline) noexcept override;
    // Buffers still with the worker belong to the old stream: their results are dropped when
    // collected, and the worker resets the model before the first buffer of the new one.
    void restart() noexcept override;
    bool failed() const noexcept override { return hasFailed.load (std::memory_order_acquire); }
    int64_t overruns() const noexcept override { return overrunCount.load (std::memory_order_relaxed); }
    void waitUntilIdle() const noexcept override;

private:
    enum SlotState : int { Free = 0, Queued = 1, Done = 2, Failed = 3 };
    struct Slot
    {
        std::vector<float> in, out;
        std::atomic<int> state { Free };
        unsigned generation = 0;
        int zerosBefore = 0;      // dropped buffers (overruns) that precede this one
        bool resetBefore = false;
    };
    static constexpr int kSlots = 4;

    BlockFifo& fifo;
    BufferProcessor& proc;
    Slot slots[kSlots];
    int fillIdx = 0, harvestIdx = 0;
    unsigned generation = 0;
    bool resetNext = false;
    bool dropping = false;        // the current buffer had no free slot: its output will be zeros
    int pendingDropped = 0;
    std::vector<float> dropIn;

    std::thread thread;
    std::atomic<bool> stop { false };
    std::counting_semaphore<> workSem { 0 }, doneSem { 0 };
    std::atomic<bool> hasFailed { false };
    std::atomic<int64_t> overrunCount { 0 };

    void harvest() noexcept;      // finished slots, in order, into the FIFO
    bool inFlight() const noexcept;
    void loop();                  // the worker thread
};

} // namespace nnplug
