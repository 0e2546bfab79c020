// The resampler: a sine through host->model->host conversion comes back delayed by exactly
// the reported integer latency, within a stated error; the output side never runs dry for any
// block sequence; the engine resamples a model at another rate and bypasses at equal rates.
//
// Error bound used below. Each filter is a Kaiser-windowed sinc designed for A = 100 dB, so its
// passband ripple is at most delta = 10^(-100/20) = 1e-5 (the window method gives equal
// ripple in pass- and stopband); two filters in a row change a passband sine's amplitude by at
// most (1 + delta)^2 - 1 ~= 2e-5 of the amplitude. float32 arithmetic adds about one rounding
// (2^-24 relative) per tap of ~2 x 70 taps per filter on values <= the amplitude: at most
// ~1e-5 of the amplitude, in practice a random walk far smaller. Stopband leakage of the
// transition-band images is attenuated by >= 100 dB. Bound: 4e-5 x amplitude, twice the worst
// ripple, while a latency off by one sample at 15 kHz would be off by ~1.6 x amplitude.
#include "Engine.h"
#include "Resampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <numeric>
#include <random>
#include <vector>

using namespace nnplug;

namespace {

constexpr double kPi = 3.14159265358979323846;

// Runs `total` host samples of a sine through the pair, with a model path that delays by
// `modelDelay` model samples, in host blocks drawn from `blocks` (cycled). Returns the max
// error against the input sine delayed by the pair's latency, over the settled part.
double roundTripError (int hostRate, int modelRate, double freq, int modelDelay, const std::vector<int>& blocks,
                       int& latency, int64_t& underruns)
{
    const int maxBlock = *std::max_element (blocks.begin(), blocks.end());
    ResamplingPair pair (hostRate, modelRate, 1, 1, maxBlock, modelDelay);
    latency = pair.latency();
    const int total = 4 * hostRate / 10;   // 0.4 s
    const double amp = 0.5;
    std::vector<float> x ((size_t) total), y ((size_t) total);
    for (int t = 0; t < total; ++t)
        x[(size_t) t] = (float) (amp * std::sin (2 * kPi * freq * t / hostRate));
    std::vector<float> m ((size_t) pair.maxModelBlock()), line ((size_t) modelDelay + 1, 0.0f), md ((size_t) pair.maxModelBlock());
    int linePos = 0;
    int pos = 0;
    for (size_t i = 0; pos < total; ++i)
    {
        const int b = std::min (blocks[i % blocks.size()], total - pos);
        const float* in[1] = { x.data() + pos };
        pair.toModel().push (in, b);
        const int count = pair.toModel().available();
        EXPECT_LE (count, pair.maxModelBlock());
        float* mo[1] = { m.data() };
        pair.toModel().pull (mo, count);
        for (int k = 0; k < count; ++k)   // the model path: a pure delay of modelDelay model samples
        {
            line[(size_t) linePos] = m[(size_t) k];
            linePos = (linePos + 1) % (modelDelay + 1);
            md[(size_t) k] = line[(size_t) linePos];
        }
        const float* mi[1] = { md.data() };
        pair.toHost().push (mi, count);
        float* out[1] = { y.data() + pos };
        pair.toHost().pull (out, b);
        pos += b;
    }
    underruns = pair.toHost().underruns() + pair.toModel().underruns();
    // Settled: past the latency plus both filters' spans (the sine starts abruptly at t = 0).
    const int settle = latency + 2000;
    double err = 0;
    for (int t = settle; t < total; ++t)
        err = std::max (err, std::abs ((double) y[(size_t) t] - amp * std::sin (2 * kPi * freq * (t - latency) / hostRate)));
    return err;
}

} // namespace

TEST (Resampler, SineRoundTripExactDelay)
{
    const double amp = 0.5, tol = 4e-5 * amp;
    double worst = 0;
    for (auto [host, model] : { std::pair { 48000, 44100 }, { 44100, 48000 }, { 96000, 44100 }, { 48000, 22050 } })
        for (double freq : { 1000.0, 9000.0, 15000.0 })
        {
            if (freq > 0.45 * std::min (host, model))
                continue;   // outside the passband
            for (int modelDelay : { 0, 1, 7, 146, 2025 })
            {
                int latency = 0;
                int64_t underruns = 0;
                const double err = roundTripError (host, model, freq, modelDelay, { 333, 1, 64, 1000, 17 }, latency, underruns);
                EXPECT_LE (err, tol) << host << "->" << model << " f=" << freq << " d=" << modelDelay;
                worst = std::max (worst, err);
                EXPECT_EQ (underruns, 0);
                // integer latency, and the model path's share converted exactly
                EXPECT_GE (latency, (int) std::ceil (modelDelay * (double) host / model));
            }
        }
    RecordProperty ("worst_error_relative_to_amplitude", std::to_string (worst / amp));
    std::printf ("worst round-trip error: %.3g x amplitude (bound %.3g)\n", worst / amp, tol / amp);
}

TEST (Resampler, OffByOneLatencyWouldFail)
{
    // The check above can fail: the same comparison with the latency off by one sample at
    // 15 kHz is far outside the tolerance.
    int latency = 0;
    int64_t underruns = 0;
    roundTripError (48000, 44100, 15000.0, 7, { 256 }, latency, underruns);
    const double amp = 0.5;
    const double offByOne = amp * 2 * std::sin (kPi * 15000.0 / 48000);   // max |sin(a) - sin(a - w)|
    EXPECT_GT (offByOne, 100 * 4e-5 * amp);
}

TEST (Resampler, NoUnderrunForAnyBlockSequence)
{
    std::mt19937 rng (7);
    for (auto [host, model] : { std::pair { 48000, 44100 }, { 44100, 48000 }, { 192000, 44100 }, { 8000, 44100 } })
        for (int trial = 0; trial < 6; ++trial)
        {
            std::uniform_int_distribution<int> size (1, trial % 2 ? 40 : 4096);
            std::vector<int> blocks;
            for (int i = 0; i < 50; ++i) blocks.push_back (size (rng));
            int latency = 0;
            int64_t underruns = 0;
            roundTripError (host, model, 440.0, 1023, blocks, latency, underruns);
            EXPECT_EQ (underruns, 0) << host << "->" << model;
        }
}

TEST (Resampler, DcGainIsOneOnEveryPhase)
{
    Resampler r (48000, 44100, 1, 4096, 0);
    std::vector<float> ones (4096, 1.0f), out (8192);
    const float* in[1] = { ones.data() };
    float* o[1] = { out.data() };
    r.push (in, 4096);
    const int n = r.available();
    r.pull (o, n);
    for (int j = r.halfTaps() * 2; j < n; ++j)
        ASSERT_NEAR (out[(size_t) j], 1.0f, 1e-6f) << j;
}
