#include "Reblocker.h"
#include "InferenceWorker.h"

#include <algorithm>
#include <numeric>

namespace nnplug {

int bufferingLatency (int bufferSize, int hostBlock, InferenceMode mode)
{
    const int sync = hostBlock > 0 ? bufferSize - std::gcd (bufferSize, hostBlock) : bufferSize - 1;
    return mode == InferenceMode::Worker ? sync + bufferSize : sync;
}

namespace {

ReblockerConfig normalised (ReblockerConfig c)
{
    c.maxBlock = std::max (1, c.maxBlock);
    return c;
}

} // namespace

Reblocker::Reblocker (const ReblockerConfig& config, BufferProcessor& processor)
    : cfg (normalised (config)),
      lat (bufferingLatency (cfg.bufferSize, cfg.hostBlock, cfg.mode)),
      fifo (cfg.inLanes, cfg.outLanes, cfg.bufferSize, lat, cfg.maxBlock)
{
    if (cfg.mode == InferenceMode::Worker)
        stage = std::make_unique<InferenceWorker> (fifo, processor, cfg.inLanes, cfg.outLanes, cfg.bufferSize);
    else
        stage = std::make_unique<SynchronousInference> (fifo, processor, cfg.inLanes, cfg.outLanes, cfg.bufferSize);
}

void Reblocker::restart() noexcept
{
    fifo.reset();
    stage->restart();
}

void Reblocker::process (const float* const* in, float* const* out, int n, bool offline) noexcept
{
    for (int offset = 0; offset < n; offset += cfg.maxBlock)
    {
        const int len = std::min (cfg.maxBlock, n - offset);
        fifo.write (in, offset, len, *stage, offline);
        stage->collect (len, offline);
        fifo.read (out, offset, len);
    }
}

} // namespace nnplug
