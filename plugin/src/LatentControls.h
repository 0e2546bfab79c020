// The latent controls: a scale and a bias on the first kLatentControls latent dimensions,
// applied between encode and decode (models played through encode>decode). Torch-free: the
// runner hands the latent over as plain floats.
#pragma once

#include <array>
#include <atomic>

namespace nnplug {

// Number of latent dimensions that get a scale and a bias control.
constexpr int kLatentControls = 8;

// Written by the UI/automation, read on the inference thread (relaxed atomics).
struct LatentControls
{
    std::array<std::atomic<float>, kLatentControls> scale, bias;
    LatentControls() { for (auto& s : scale) s = 1.0f; for (auto& b : bias) b = 0.0f; }
};

// The controls' values for one call, read once so that the unity test and the transform agree.
struct LatentSettings
{
    std::array<float, kLatentControls> scale {}, bias {};

    explicit LatentSettings (const LatentControls& c) noexcept
    {
        for (int d = 0; d < kLatentControls; ++d)
        {
            scale[(size_t) d] = c.scale[(size_t) d].load (std::memory_order_relaxed);
            bias[(size_t) d] = c.bias[(size_t) d].load (std::memory_order_relaxed);
        }
    }

    // At unity (scale 1, bias 0 on the first `dims` dimensions) the latent goes to decode untouched.
    bool unity (int dims) const noexcept
    {
        for (int d = 0; d < dims && d < kLatentControls; ++d)
            if (scale[(size_t) d] != 1.0f || bias[(size_t) d] != 0.0f)
                return false;
        return true;
    }

    // z is [batch][channels][frames], contiguous: z = z * scale + bias on the first
    // kLatentControls channels. Two float32 roundings, product then sum, as torch's
    // mul_ then add_ (separate statements, so that no compiler fuses them into one FMA).
    void apply (float* z, int batch, int channels, int frames) const noexcept
    {
        const int dims = channels < kLatentControls ? channels : kLatentControls;
        for (int b = 0; b < batch; ++b)
            for (int d = 0; d < dims; ++d)
            {
                const float s = scale[(size_t) d], o = bias[(size_t) d];
                if (s == 1.0f && o == 0.0f)
                    continue;
                float* row = z + ((size_t) b * (size_t) channels + (size_t) d) * (size_t) frames;
                for (int t = 0; t < frames; ++t)
                {
                    volatile float scaled = row[t] * s;
                    row[t] = scaled + o;
                }
            }
    }
};

// The latents as decode receives them (after scale and bias), for a display: the mean over each
// call's frames of the first stream's first kLatentShown dimensions. Written by the inference
// thread with relaxed atomics (no lock, no allocation), read by the editor at display rate.
constexpr int kLatentShown = 16;

struct LatentMonitor
{
    std::array<std::atomic<float>, kLatentShown> mean {};
    std::atomic<int> dims { 0 };            // how many of `mean` the last call wrote
    std::atomic<unsigned> calls { 0 };      // counts the calls, so a reader sees the latents move

    // z: the first stream's [channels][frames], with strides in elements (encode's result may
    // be a strided view: it is read where it lies).
    void write (const float* z, int channels, int frames, long channelStride, long frameStride) noexcept
    {
        const int n = channels < kLatentShown ? channels : kLatentShown;
        for (int d = 0; d < n; ++d)
        {
            const float* row = z + d * channelStride;
            float sum = 0.0f;
            for (int t = 0; t < frames; ++t)
                sum += row[t * frameStride];
            mean[(size_t) d].store (frames > 0 ? sum / (float) frames : 0.0f, std::memory_order_relaxed);
        }
        dims.store (n, std::memory_order_relaxed);
        calls.fetch_add (1, std::memory_order_release);
    }
};

} // namespace nnplug
