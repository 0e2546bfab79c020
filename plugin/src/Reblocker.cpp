#include "Reblocker.h"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace nnplug {

int bufferingLatency (int bufferSize, int hostBlock, InferenceMode mode)
{
    const int sync = hostBlock > 0 ? bufferSize - std::gcd (bufferSize, hostBlock) : bufferSize - 1;
    return mode == InferenceMode::Worker ? sync + bufferSize : sync;
}

Reblocker::Reblocker (const ReblockerConfig& config, BufferProcessor& processor)
    : cfg (config), proc (processor)
{
    n = cfg.bufferSize;
    cfg.maxBlock = std::max (1, cfg.maxBlock);
    lat = bufferingLatency (n, cfg.hostBlock, cfg.mode);
    // Before a pop the FIFO holds at most latency + one host block + one buffer.
    cap = lat + cfg.maxBlock + n + 1;
    ring.assign ((size_t) cfg.outLanes * (size_t) cap, 0.0f);

    if (cfg.mode == InferenceMode::Synchronous)
    {
        syncIn.assign ((size_t) cfg.inLanes * (size_t) n, 0.0f);
        syncOut.assign ((size_t) cfg.outLanes * (size_t) n, 0.0f);
    }
    else
    {
        dropIn.assign ((size_t) cfg.inLanes * (size_t) n, 0.0f);
        for (auto& s : slots)
        {
            s.in.assign ((size_t) cfg.inLanes * (size_t) n, 0.0f);
            s.out.assign ((size_t) cfg.outLanes * (size_t) n, 0.0f);
        }
        worker = std::thread ([this] { workerLoop(); });
    }
    resetFifo();
}

Reblocker::~Reblocker()
{
    if (worker.joinable())
    {
        stop.store (true);
        workSem.release();
        worker.join();
    }
}

void Reblocker::resetFifo() noexcept
{
    std::fill (ring.begin(), ring.end(), 0.0f);
    rd = 0;
    count = lat;   // latency() zeros
    deficit = 0;
    fill = 0;
    dropping = false;
    pendingDropped = 0;
}

void Reblocker::restart() noexcept
{
    resetFifo();
    if (cfg.mode == InferenceMode::Synchronous)
    {
        if (! failed() && ! proc.resetStream())
            hasFailed.store (true, std::memory_order_release);
    }
    else
    {
        // Buffers still with the worker belong to the old stream: their results are dropped
        // at harvest, and the worker resets the model before the first new buffer.
        ++generation;
        resetNext = true;
    }
}

void Reblocker::workerLoop()
{
    int idx = 0;
    for (;;)
    {
        workSem.acquire();
        if (stop.load())
            return;
        while (slots[idx].state.load (std::memory_order_acquire) == Queued)
        {
            Slot& s = slots[idx];
            bool ok = ! hasFailed.load (std::memory_order_acquire);
            if (ok && s.resetBefore)
                ok = proc.resetStream();
            if (ok)
                ok = proc.processBuffer (s.in.data(), s.out.data());
            s.state.store (ok ? Done : Failed, std::memory_order_release);
            doneSem.release();
            idx = (idx + 1) % kSlots;
        }
    }
}

void Reblocker::push (const float* lanes) noexcept
{
    int skip = (int) std::min<int64_t> (deficit, n);
    deficit -= skip;
    // cannot overflow while the invariant holds; the clamp only guards memory
    const int len = std::min (n - skip, cap - count);
    int wr = (rd + count) % cap;
    for (int lane = 0; lane < cfg.outLanes; ++lane)
    {
        const float* src = lanes + (size_t) lane * (size_t) n + skip;
        float* dst = ring.data() + (size_t) lane * (size_t) cap;
        const int first = std::min (len, cap - wr);
        std::memcpy (dst + wr, src, sizeof (float) * (size_t) first);
        std::memcpy (dst, src + first, sizeof (float) * (size_t) (len - first));
    }
    count += len;
}

void Reblocker::pushZeros() noexcept
{
    int skip = (int) std::min<int64_t> (deficit, n);
    deficit -= skip;
    // cannot overflow while the invariant holds; the clamp only guards memory
    const int len = std::min (n - skip, cap - count);
    int wr = (rd + count) % cap;
    for (int lane = 0; lane < cfg.outLanes; ++lane)
    {
        float* dst = ring.data() + (size_t) lane * (size_t) cap;
        const int first = std::min (len, cap - wr);
        std::fill (dst + wr, dst + wr + first, 0.0f);
        std::fill (dst, dst + (len - first), 0.0f);
    }
    count += len;
}

void Reblocker::harvest() noexcept
{
    for (;;)
    {
        Slot& s = slots[harvestIdx];
        const int st = s.state.load (std::memory_order_acquire);
        if (st != Done && st != Failed)
            return;
        if (s.generation == generation)
        {
            for (int i = 0; i < s.zerosBefore; ++i)
                pushZeros();
            if (st == Done)
                push (s.out.data());
            else
            {
                hasFailed.store (true, std::memory_order_release);
                pushZeros();
            }
        }
        s.state.store (Free, std::memory_order_release);
        harvestIdx = (harvestIdx + 1) % kSlots;
    }
}

bool Reblocker::inFlight() const noexcept
{
    for (const auto& s : slots)
        if (s.state.load (std::memory_order_acquire) == Queued)
            return true;
    return false;
}

float* Reblocker::startBuffer (bool offline) noexcept
{
    if (cfg.mode == InferenceMode::Synchronous)
        return syncIn.data();

    Slot& s = slots[fillIdx];
    while (s.state.load (std::memory_order_acquire) != Free)
    {
        harvest();
        if (s.state.load (std::memory_order_acquire) == Free)
            break;
        if (! offline)
        {
            // The worker is a whole pipeline behind: never wait on the audio thread. This
            // buffer is dropped and its output becomes zeros, in order, so alignment holds.
            overrunCount.fetch_add (1, std::memory_order_relaxed);
            dropping = true;
            return dropIn.data();
        }
        doneSem.acquire();
    }
    dropping = false;
    return s.in.data();
}

void Reblocker::bufferFull() noexcept
{
    if (cfg.mode == InferenceMode::Synchronous)
    {
        if (! failed() && proc.processBuffer (syncIn.data(), syncOut.data()))
            push (syncOut.data());
        else
        {
            hasFailed.store (true, std::memory_order_release);
            pushZeros();
        }
        return;
    }

    if (dropping)
    {
        ++pendingDropped;
        dropping = false;
        return;
    }
    Slot& s = slots[fillIdx];
    s.generation = generation;
    s.resetBefore = resetNext;
    s.zerosBefore = pendingDropped;
    pendingDropped = 0;
    resetNext = false;
    s.state.store (Queued, std::memory_order_release);
    workSem.release();
    fillIdx = (fillIdx + 1) % kSlots;
}

void Reblocker::processChunk (const float* const* in, float* const* out, int offset, int len, bool offline) noexcept
{
    int pos = 0;
    while (pos < len)
    {
        const int take = std::min (len - pos, n - fill);
        if (fill == 0)
            currentBuf = startBuffer (offline);
        float* buf = currentBuf;
        for (int lane = 0; lane < cfg.inLanes; ++lane)
            std::memcpy (buf + (size_t) lane * (size_t) n + fill, in[lane] + offset + pos, sizeof (float) * (size_t) take);
        fill += take;
        pos += take;
        if (fill == n)
        {
            fill = 0;
            bufferFull();
        }
    }

    if (cfg.mode == InferenceMode::Worker)
    {
        harvest();
        while (offline && count < len && inFlight())
        {
            doneSem.acquire();
            harvest();
        }
    }

    const int avail = std::min (count, len);
    for (int lane = 0; lane < cfg.outLanes; ++lane)
    {
        const float* src = ring.data() + (size_t) lane * (size_t) cap;
        float* dst = out[lane] + offset;
        const int first = std::min (avail, cap - rd);
        std::memcpy (dst, src + rd, sizeof (float) * (size_t) first);
        std::memcpy (dst + first, src, sizeof (float) * (size_t) (avail - first));
        std::fill (dst + avail, dst + len, 0.0f);
    }
    rd = (rd + avail) % cap;
    count -= avail;
    if (avail < len)
    {
        underruns.fetch_add (len - avail, std::memory_order_relaxed);
        deficit += len - avail;
    }
}

void Reblocker::process (const float* const* in, float* const* out, int n_, bool offline) noexcept
{
    for (int offset = 0; offset < n_; offset += cfg.maxBlock)
        processChunk (in, out, offset, std::min (cfg.maxBlock, n_ - offset), offline);
}

} // namespace nnplug
