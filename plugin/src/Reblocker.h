// Turns host blocks of any size into model buffers of exactly N samples and back, at a
// fixed, known latency.
//
// Invariant: the output for input sample t comes out at host sample t + latency(), always.
// The output FIFO starts with latency() zeros; each model buffer adds N samples; each host
// block takes as many as it gives. With buffering N - gcd(N, B) the FIFO never runs dry for
// a fixed host block B; N - 1 covers any block sequence. If it runs dry anyway (a host block
// breaking the promised schedule, or a late worker in real time), the missing samples are
// zeros and the same number of later samples is dropped, so alignment never drifts.
//
// Worker mode moves inference to a thread of its own: the audio thread only copies, and
// signals with a C++20 semaphore (no lock, no allocation; portable, unlike POSIX's unnamed ones,
// which macOS does not implement). It needs one more buffer of
// latency so that the worker has a full buffer period to finish. In offline rendering the
// audio thread waits for the worker instead of dropping, so renders are deterministic.
//
// Why the JUCE plugin reports N - 1 (any sequence) and not N - gcd(N, B): the hosts we prove
// against cannot be relied on to keep the block size B that prepareToPlay announced.
//  * pedalboard (ExternalPlugin::prepare) calls prepareToPlay only when the sample rate or
//    channel count changes or the block size *grows*: after one process(buffer_size=4096),
//    process(buffer_size=512) runs 512-sample blocks on a plugin prepared for 4096. Every
//    process() call also ends with a shorter block (length mod buffer_size).
//  * it reads the latency (getLatencySamples) after every block to decide how many output
//    samples to keep, and the value it sees after a re-prepare is the one from *before* the
//    plugin was prepared (JUCE's VST3 host activates the plugin after reading it). Measured:
//    the default model at 48 kHz reports 3048 (its 44.1 kHz latency) during the first 48 kHz
//    process() call and 3464 from the second call on (tests/python/test_plugin_latency.py,
//    fixture pb48). A latency that depends on B would be stale in the same way, and a
//    mid-stream fallback (rebuilding at N - 1 when a block of another size arrives) would
//    change the latency under pedalboard's running compensation and misalign its output.
// DawDreamer does send fixed blocks, but a plugin cannot tell the two hosts apart. So the
// engine supports a fixed B (ReblockerConfig::hostBlock, tested in test_reblocker.cpp) for
// front ends that can guarantee it, and the JUCE layer uses N - 1.
#pragma once

#include <atomic>
#include <semaphore>
#include <thread>
#include <vector>

namespace nnplug {

enum class InferenceMode { Synchronous = 0, Worker = 1 };

// What the re-blocker drives: a model (or anything else) that maps N input samples per lane
// to N output samples per lane. Lanes are laid out [lane][N], contiguous.
class BufferProcessor
{
public:
    virtual ~BufferProcessor() = default;
    virtual bool processBuffer (const float* in, float* out) noexcept = 0;
    virtual bool resetStream() noexcept = 0;
};

struct ReblockerConfig
{
    int inLanes = 1, outLanes = 1;
    int bufferSize = 512;         // N
    int maxBlock = 512;           // largest host block expected (larger ones are split)
    int hostBlock = 0;            // the host's fixed block size; 0 = any sequence of sizes
    InferenceMode mode = InferenceMode::Synchronous;
};

// Buffering latency in samples: N - gcd(N, B) for a fixed block B, N - 1 for any sequence,
// plus N in worker mode.
int bufferingLatency (int bufferSize, int hostBlock, InferenceMode mode);

class Reblocker
{
public:
    Reblocker (const ReblockerConfig& config, BufferProcessor& processor);
    ~Reblocker();
    Reblocker (const Reblocker&) = delete;
    Reblocker& operator= (const Reblocker&) = delete;

    int latency() const { return lat; }
    const ReblockerConfig& config() const { return cfg; }

    // in: inLanes pointers, out: outLanes pointers, n samples each (may alias nothing).
    void process (const float* const* in, float* const* out, int n, bool offline) noexcept;

    // Starts the stream afresh (model state reset, FIFOs refilled with latency() zeros).
    // Audio thread; never blocks.
    void restart() noexcept;

    // Sticky: the processor returned false once; output is then zeros.
    bool failed() const { return hasFailed.load (std::memory_order_acquire); }

    int64_t underrunSamples() const { return underruns.load (std::memory_order_relaxed); }
    int64_t overruns() const { return overrunCount.load (std::memory_order_relaxed); }

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

    ReblockerConfig cfg;
    BufferProcessor& proc;
    int lat = 0;
    int n = 0;

    // output FIFO, [lane][cap]
    std::vector<float> ring;
    int cap = 0, rd = 0, count = 0;
    int64_t deficit = 0;   // samples owed as zeros: drop this many of the next produced

    int fill = 0;          // samples written into the current input buffer
    float* currentBuf = nullptr;
    std::vector<float> syncIn, syncOut;

    static constexpr int kSlots = 4;
    Slot slots[kSlots];
    int fillIdx = 0, harvestIdx = 0;
    unsigned generation = 0;
    bool resetNext = false;
    bool dropping = false;          // the current buffer had no free slot: its output will be zeros
    int pendingDropped = 0;
    std::vector<float> dropIn;
    std::thread worker;
    std::atomic<bool> stop { false };
    std::counting_semaphore<> workSem { 0 }, doneSem { 0 };

    std::atomic<bool> hasFailed { false };
    std::atomic<int64_t> underruns { 0 }, overrunCount { 0 };

    void processChunk (const float* const* in, float* const* out, int offset, int len, bool offline) noexcept;
    float* startBuffer (bool offline) noexcept;  // where the next buffer's input goes
    void bufferFull() noexcept;
    void push (const float* lanes) noexcept;   // N samples per lane
    void pushZeros() noexcept;
    void harvest() noexcept;
    bool inFlight() const noexcept;
    void resetFifo() noexcept;
    void workerLoop();
};

} // namespace nnplug
