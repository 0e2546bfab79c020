// Levels for the editor's meters: the audio thread records each block's peak with a lock-free
// atomic (no lock, no allocation); the editor takes the peak since its last look at display rate.
#pragma once

#include <juce_audio_basics/juce_audio_basics.h>

#include <algorithm>
#include <atomic>

namespace nnplug {

class PeakMeter
{
public:
    // Audio thread: the largest magnitude of the block's first `channels` channels.
    void push (const juce::AudioBuffer<float>& buffer, int channels) noexcept
    {
        float m = 0.0f;
        for (int ch = 0; ch < std::min (channels, buffer.getNumChannels()); ++ch)
            m = std::max (m, buffer.getMagnitude (ch, 0, buffer.getNumSamples()));
        if (! (m < 1.0e6f))   // NaN or absurd: the meter pins, it does not break
            m = 1.0e6f;
        // A lost update (the editor taking it at the same instant) only loses one block's peak.
        if (m > peak.load (std::memory_order_relaxed))
            peak.store (m, std::memory_order_relaxed);
    }

    // Editor: the peak since the last take (linear).
    float take() noexcept { return peak.exchange (0.0f, std::memory_order_relaxed); }

private:
    std::atomic<float> peak { 0.0f };
    static_assert (std::atomic<float>::is_always_lock_free);
};

} // namespace nnplug
