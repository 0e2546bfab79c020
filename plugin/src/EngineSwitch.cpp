#include "EngineSwitch.h"

#include <algorithm>
#include <cstring>

namespace nnplug {

void EngineSwitch::prepare (int ch, int block, int fadeSamples)
{
    channels = std::max (1, ch);
    maxBlock = std::max (1, block);
    fadeLen = std::max (1, fadeSamples);
    scratch.assign ((size_t) channels, std::vector<float> ((size_t) maxBlock, 0.0f));
    scratchPtr.resize ((size_t) channels);
    for (int c = 0; c < channels; ++c)
        scratchPtr[(size_t) c] = scratch[(size_t) c].data();
}

void EngineSwitch::clear()
{
    delete pending.exchange (nullptr);
    delete retired.exchange (nullptr);
    if (incoming != active)
        delete incoming;
    delete active;
    incoming = active = nullptr;
    shown.store (nullptr);
    fadingNow.store (false);
}

void EngineSwitch::installNow (Engine* e)
{
    clear();
    active = e;
    started = false;
    shown.store (e, std::memory_order_release);
}

void EngineSwitch::offer (Engine* e)
{
    delete pending.exchange (e, std::memory_order_acq_rel);
}

void EngineSwitch::collect()
{
    delete retired.exchange (nullptr, std::memory_order_acq_rel);
}

void EngineSwitch::retire (Engine* e) noexcept
{
    retired.store (e, std::memory_order_release);
    if (e != nullptr && retiredSignal != nullptr)
        retiredSignal->release();
}

void EngineSwitch::process (float* const* io, int numChannels, int numSamples, bool offline) noexcept
{
    numChannels = std::min (numChannels, channels);
    // Nothing played since installNow(): a stream start, like a restart.
    const bool restartNow = restart.exchange (false, std::memory_order_acq_rel) || ! started;
    started = true;

    if (incoming == nullptr && retired.load (std::memory_order_acquire) == nullptr
        && dropActive.exchange (false, std::memory_order_acq_rel))
    {
        retire (active);
        active = nullptr;
        shown.store (nullptr, std::memory_order_release);
    }

    // Take a new engine only when the previous old one has been collected. At a stream
    // restart there is no continuity to keep, so the new engine takes over without a fade.
    if (incoming == nullptr && retired.load (std::memory_order_acquire) == nullptr)
    {
        if (Engine* e = pending.exchange (nullptr, std::memory_order_acq_rel))
        {
            incoming = e;
            fadePos = 0;
            shown.store (e, std::memory_order_release);
            fadingNow.store (true, std::memory_order_release);
            if (restartNow)
            {
                retire (active);
                active = incoming;
                incoming = nullptr;
                fadingNow.store (false, std::memory_order_release);
            }
        }
    }
    if (restartNow)
    {
        if (active) active->requestRestart();
        if (incoming) incoming->requestRestart();
    }

    for (int offset = 0; offset < numSamples; offset += maxBlock)
    {
        const int len = std::min (maxBlock, numSamples - offset);
        float* ptrs[8];
        const int nch = std::min (numChannels, 8);
        for (int c = 0; c < nch; ++c) ptrs[c] = io[c] + offset;
        // An engine reads as many channels as it was prepared for; a host handing us fewer
        // would make it read past the buffer, so such a block passes through untouched.
        if ((active != nullptr && active->config().hostChannels > nch)
            || (incoming != nullptr && incoming->config().hostChannels > nch))
            continue;

        if (incoming == nullptr)
        {
            if (active != nullptr)
                active->process (ptrs, len, offline);
            continue;   // no engine: the dry signal passes unchanged
        }

        for (int c = 0; c < nch; ++c)
            std::memcpy (scratchPtr[(size_t) c], ptrs[c], sizeof (float) * (size_t) len);
        if (active != nullptr)
            active->process (ptrs, len, offline);
        incoming->process (scratchPtr.data(), len, offline);

        for (int i = 0; i < len; ++i)
        {
            const float g = std::min (1.0f, (float) (fadePos + i + 1) / (float) fadeLen);
            for (int c = 0; c < nch; ++c)
                ptrs[c][i] = ptrs[c][i] * (1.0f - g) + scratchPtr[(size_t) c][(size_t) i] * g;
        }
        fadePos += len;
        if (fadePos >= fadeLen)
        {
            retire (active);
            active = incoming;
            incoming = nullptr;
            fadingNow.store (false, std::memory_order_release);
        }
    }
}

} // namespace nnplug
