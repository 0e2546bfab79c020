// Turns host blocks of any size into model buffers of exactly N samples and back, at a fixed,
// known latency: a block FIFO (BlockFifo.h) feeding an inference stage, synchronous
// (InferenceStage.h) or on a worker thread (InferenceWorker.h).
//
// Why the JUCE plugin reports N - 1 (any sequence) and not N - gcd(N, B): the hosts we prove
// against cannot be relied on to keep the block size B that prepareToPlay announced.
//  * pedalboard (ExternalPlugin::prepare) calls prepareToPlay only when the sample rate or
//    channel count changes or the block size *grows*: after one process(buffer_size=4096),
//    process(buffer_size=512) runs 512-sample blocks on a plugin prepared for 4096. Every
//    process() call also ends with a shorter block (length mod buffer_size).
//  * it reads the latency (getLatencySamples) after every block to decide how many output
//    samples to keep, and the value it sees after a re-prepare is the one from *before* the
//    plugin was prepared (JUCE's VST3 host activates the plugin after reading it): the default
//    model at 48 kHz reports its 44.1 kHz latency during the first 48 kHz process() call
//    (tests/python/test_plugin_latency.py, fixture pb48). A latency that depends on B would
//    be stale in the same way, and a mid-stream fallback (rebuilding at N - 1 when a block of
//    another size arrives) would change the latency under pedalboard's running compensation
//    and misalign its output.
// DawDreamer does send fixed blocks, but a plugin cannot tell the two hosts apart. So the
// engine supports a fixed B (ReblockerConfig::hostBlock, tested in test_reblocker.cpp) for
// front ends that can guarantee it, and the JUCE layer uses N - 1.
#pragma once

#include "BlockFifo.h"
#include "InferenceStage.h"

#include <memory>

namespace nnplug {

struct ReblockerConfig
{
    int inLanes = 1, outLanes = 1;
    int bufferSize = 512;         // N
    int maxBlock = 512;           // largest host block expected (larger ones are split)
    int hostBlock = 0;            // the host's fixed block size; 0 = any sequence of sizes
    InferenceMode mode = InferenceMode::Synchronous;
};

// Buffering latency in samples: N - gcd(N, B) for a fixed block B, N - 1 for any sequence,
// plus N in worker mode. With it the FIFO never runs dry for a fixed host block B, or for any
// block sequence.
int bufferingLatency (int bufferSize, int hostBlock, InferenceMode mode);

class Reblocker
{
public:
    Reblocker (const ReblockerConfig& config, BufferProcessor& processor);
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
    bool failed() const { return stage->failed(); }

    int64_t underrunSamples() const { return fifo.underrunSamples(); }
    int64_t overruns() const { return stage->overruns(); }
    void waitUntilIdle() const noexcept { stage->waitUntilIdle(); }

private:
    ReblockerConfig cfg;
    int lat = 0;
    BlockFifo fifo;
    std::unique_ptr<InferenceStage> stage;   // declared after fifo: destroyed (joined) first
};

} // namespace nnplug
