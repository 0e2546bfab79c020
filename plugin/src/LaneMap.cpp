#include "LaneMap.h"

#include <algorithm>

namespace nnplug {

LaneMap::LaneMap (int hostChannels, int ci, int co, ChannelMode mode)
{
    h = std::max (1, hostChannels);
    ci = std::max (1, ci);
    co = std::max (1, co);
    batchSize = ci == 1 && h > 1 && mode == ChannelMode::PerChannel ? h : 1;
    outCount = batchSize * co;

    inSource.resize ((size_t) (batchSize * ci));
    for (int lane = 0; lane < (int) inSource.size(); ++lane)
    {
        if (batchSize > 1)
            inSource[(size_t) lane] = lane;
        else if (ci == 1 && h > 1)
            inSource[(size_t) lane] = kMean;
        else
            inSource[(size_t) lane] = lane % h;
    }

    outSource.resize ((size_t) h);
    for (int ch = 0; ch < h; ++ch)
    {
        if (batchSize > 1)
            outSource[(size_t) ch] = ch * co;
        else if (co == h || (co > h && h > 1))
            outSource[(size_t) ch] = ch;
        else if (co == 1)
            outSource[(size_t) ch] = 0;
        else
            outSource[(size_t) ch] = kMean;
    }
}

namespace {

// dst = (src[0] + src[1] + ... + src[count-1]) / count, summed in float in that order.
void mean (const float* const* src, int count, int len, float* dst) noexcept
{
    for (int i = 0; i < len; ++i)
    {
        float s = 0;
        for (int c = 0; c < count; ++c) s += src[c][i];
        dst[i] = s / (float) count;
    }
}

} // namespace

void LaneMap::toLanes (const float* const* host, int len, const float** lanes, float* const* means) const noexcept
{
    for (int lane = 0; lane < inLanes(); ++lane)
    {
        const int src = inSource[(size_t) lane];
        if (src == kMean)
        {
            mean (host, h, len, means[lane]);
            lanes[lane] = means[lane];
        }
        else
            lanes[lane] = host[src];
    }
}

void LaneMap::toHost (const float* const* lanes, int len, const float** host, float* const* means) const noexcept
{
    for (int ch = 0; ch < h; ++ch)
    {
        const int src = outSource[(size_t) ch];
        if (src == kMean)
        {
            mean (lanes, outCount, len, means[ch]);
            host[ch] = means[ch];
        }
        else
            host[ch] = lanes[src];
    }
}

} // namespace nnplug
