#include "BlockFifo.h"
#include "InferenceStage.h"

#include <algorithm>
#include <cstring>

namespace nnplug {

BlockFifo::BlockFifo (int in, int out, int bufferSize, int latency, int maxBlock)
    : inLanes (in), outLanes (out), n (bufferSize), lat (latency)
{
    // Before a read the FIFO holds at most latency + one host block + one buffer.
    cap = lat + std::max (1, maxBlock) + n + 1;
    ring.assign ((size_t) outLanes * (size_t) cap, 0.0f);
    reset();
}

void BlockFifo::reset() noexcept
{
    std::fill (ring.begin(), ring.end(), 0.0f);
    rd = 0;
    count = lat;
    deficit = 0;
    fill = 0;
}

void BlockFifo::write (const float* const* in, int offset, int len, InferenceStage& stage, bool offline) noexcept
{
    int pos = 0;
    while (pos < len)
    {
        const int take = std::min (len - pos, n - fill);
        if (fill == 0)
            current = stage.nextInput (offline);
        for (int lane = 0; lane < inLanes; ++lane)
            std::memcpy (current + (size_t) lane * (size_t) n + fill, in[lane] + offset + pos, sizeof (float) * (size_t) take);
        fill += take;
        pos += take;
        if (fill == n)
        {
            fill = 0;
            stage.submit();
        }
    }
}

int BlockFifo::takeDeficit() noexcept
{
    const int skip = (int) std::min<int64_t> (deficit, n);
    deficit -= skip;
    return skip;
}

void BlockFifo::push (const float* lanes) noexcept
{
    const int skip = takeDeficit();
    // cannot overflow while the invariant holds; the clamp only guards memory
    const int len = std::min (n - skip, cap - count);
    const int wr = (rd + count) % cap;
    for (int lane = 0; lane < outLanes; ++lane)
    {
        const float* src = lanes + (size_t) lane * (size_t) n + skip;
        float* dst = ring.data() + (size_t) lane * (size_t) cap;
        const int first = std::min (len, cap - wr);
        std::memcpy (dst + wr, src, sizeof (float) * (size_t) first);
        std::memcpy (dst, src + first, sizeof (float) * (size_t) (len - first));
    }
    count += len;
}

void BlockFifo::pushZeros() noexcept
{
    const int skip = takeDeficit();
    const int len = std::min (n - skip, cap - count);
    const int wr = (rd + count) % cap;
    for (int lane = 0; lane < outLanes; ++lane)
    {
        float* dst = ring.data() + (size_t) lane * (size_t) cap;
        const int first = std::min (len, cap - wr);
        std::fill (dst + wr, dst + wr + first, 0.0f);
        std::fill (dst, dst + (len - first), 0.0f);
    }
    count += len;
}

void BlockFifo::read (float* const* out, int offset, int len) noexcept
{
    const int avail = std::min (count, len);
    for (int lane = 0; lane < outLanes; ++lane)
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

} // namespace nnplug
