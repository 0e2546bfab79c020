#include "Resampler.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>

namespace nnplug {

namespace {

constexpr double kPi = 3.14159265358979323846;

int64_t floorDiv (int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        --q;
    return q;
}

double besselI0 (double x)
{
    // power series; converges fast for the arguments used here (beta <= ~15)
    double sum = 1.0, term = 1.0;
    const double q = x * x / 4.0;
    for (int k = 1; k < 200; ++k)
    {
        term *= q / ((double) k * (double) k);
        sum += term;
        if (term < sum * 1e-17)
            break;
    }
    return sum;
}

double kaiserBeta (double a)
{
    if (a > 50.0) return 0.1102 * (a - 8.7);
    if (a >= 21.0) return 0.5842 * std::pow (a - 21.0, 0.4) + 0.07886 * (a - 21.0);
    return 0.0;
}

} // namespace

int Resampler::halfTapsFor (int inRate, int outRate, const ResamplerDesign& d)
{
    if (inRate <= 0 || outRate <= 0)
        throw std::invalid_argument ("sample rates must be positive");
    const double fmin = std::min (inRate, outRate);
    const double transition = (d.stopFraction - d.passFraction) * fmin / (double) inRate;   // cycles per input sample
    // Kaiser's estimate of the filter length in input samples for attenuation A and this transition.
    const double length = (d.attenuationDb - 7.95) / (2.285 * 2.0 * kPi * transition) + 1.0;
    return std::max (2, (int) std::ceil (length / 2.0) + 1);
}

Resampler::Resampler (int inRate, int outRate, int lanes_, int maxPush, int64_t delayTicks, const ResamplerDesign& d)
    : lanes (std::max (1, lanes_)), maxIn (std::max (1, maxPush)), delay (delayTicks)
{
    K = halfTapsFor (inRate, outRate, d);
    taps = 2 * K;
    const int g = std::gcd (inRate, outRate);
    upF = outRate / g;
    downF = inRate / g;
    if ((int64_t) upF * taps > (int64_t) 1 << 22)
        throw std::invalid_argument ("cannot resample " + std::to_string (inRate) + " Hz to " + std::to_string (outRate)
                                     + " Hz: the rates have no small common divisor");

    // Prototype in input-sample units u: h(u) = 2 fc sinc(2 fc u) w(u), fc in cycles per input sample.
    const double fmin = std::min (inRate, outRate);
    const double fc = 0.5 * (d.passFraction + d.stopFraction) * fmin / (double) inRate;
    const double beta = kaiserBeta (d.attenuationDb);
    const double halfWidth = (double) K;   // window reaches zero at |u| = K
    const double i0beta = besselI0 (beta);
    coef.assign ((size_t) upF * (size_t) taps, 0.0f);
    std::vector<double> branch ((size_t) taps);
    for (int phase = 0; phase < upF; ++phase)
    {
        double sum = 0.0;
        for (int m = 0; m < taps; ++m)
        {
            // coefficient m multiplies x[i0 - K + 1 + m]; u = (output position - input position) in input samples
            const double u = (double) (K - 1 - m) + (double) phase / (double) upF;
            const double r = u / halfWidth;
            double h = 0.0;
            if (std::abs (r) < 1.0)
            {
                const double x = 2.0 * fc * u;
                const double sinc = x == 0.0 ? 1.0 : std::sin (kPi * x) / (kPi * x);
                h = 2.0 * fc * sinc * besselI0 (beta * std::sqrt (1.0 - r * r)) / i0beta;
            }
            branch[(size_t) m] = h;
            sum += h;
        }
        for (int m = 0; m < taps; ++m)
            coef[(size_t) phase * (size_t) taps + (size_t) m] = (float) (branch[(size_t) m] / sum);
    }

    // room for: the filter span, one push, slack, and the silence the first output reads
    // (it looks `delay` ticks back)
    cap = taps + maxIn + 64 + (int) (std::max<int64_t> (0, delay) / upF) + 1;
    hist.assign ((size_t) lanes * (size_t) cap, 0.0f);
    reset();
}

void Resampler::reset() noexcept
{
    std::fill (hist.begin(), hist.end(), 0.0f);
    // Silence before the stream: the history starts with zeros at negative indices, as far
    // back as the first output reads.
    nextOut = 0;
    int phase = 0;
    histStart = std::min<int64_t> (-taps, baseIndex (0, phase) - K + 1);
    histEnd = 0;
}

int64_t Resampler::baseIndex (int64_t j, int& phase) const noexcept
{
    const int64_t pos = j * downF - delay;     // ticks
    const int64_t i0 = floorDiv (pos, upF);
    phase = (int) (pos - i0 * upF);
    return i0;
}

void Resampler::push (const float* const* in, int n) noexcept
{
    n = std::min (n, maxIn);
    // Drop what the next output no longer needs, so that n more samples fit.
    int phase = 0;
    const int64_t firstNeeded = baseIndex (nextOut, phase) - K + 1;
    const int64_t keepFrom = std::max (histStart, std::min (firstNeeded, histEnd));
    int64_t drop = keepFrom - histStart;
    const int64_t used = histEnd - histStart;
    if (used - drop + n > cap)
        drop = used + n - cap;   // only if outputs were skipped (never pulled): keep the newest
    if (drop > 0)
    {
        const int64_t keep = std::max<int64_t> (0, used - drop);
        for (int l = 0; l < lanes; ++l)
        {
            float* h = hist.data() + (size_t) l * (size_t) cap;
            std::memmove (h, h + (used - keep), sizeof (float) * (size_t) keep);
        }
        histStart = histEnd - keep;
    }
    const int64_t off = histEnd - histStart;
    for (int l = 0; l < lanes; ++l)
        std::memcpy (hist.data() + (size_t) l * (size_t) cap + off, in[l], sizeof (float) * (size_t) n);
    histEnd += n;
}

int Resampler::available() const noexcept
{
    // Output j is computable when i0(j) + K < histEnd, i.e. j * down - delay < (histEnd - K) * up.
    const int64_t limit = (histEnd - K) * (int64_t) upF + delay;   // j * down < limit
    const int64_t count = floorDiv (limit - 1, downF) + 1 - nextOut;
    return (int) std::max<int64_t> (0, count);
}

int Resampler::maxOutputsPerPush (int n) const
{
    return (int) (((int64_t) n * upF + downF - 1) / downF) + 1;
}

void Resampler::pull (float* const* out, int n) noexcept
{
    for (int s = 0; s < n; ++s, ++nextOut)
    {
        int phase = 0;
        const int64_t i0 = baseIndex (nextOut, phase);
        const int64_t first = i0 - K + 1;
        if (i0 + K >= histEnd || first < histStart)
        {
            for (int l = 0; l < lanes; ++l)
                out[l][s] = 0.0f;
            ++underrunCount;
            continue;
        }
        const float* c = coef.data() + (size_t) phase * (size_t) taps;
        for (int l = 0; l < lanes; ++l)
        {
            const float* x = hist.data() + (size_t) l * (size_t) cap + (first - histStart);
            float acc = 0.0f;
            for (int m = 0; m < taps; ++m)
                acc += x[m] * c[m];
            out[l][s] = acc;
        }
    }
}

ResamplingPair::ResamplingPair (int hostRate, int modelRate, int inLanes, int outLanes, int maxHostBlock,
                                int modelSideDelay)
{
    const int g = std::gcd (hostRate, modelRate);
    const int64_t hostTick = modelRate / g;    // ticks per host sample (the in path's `up`)
    const int64_t modelTick = hostRate / g;    // ticks per model sample (the in path's `down`)
    const int kIn = Resampler::halfTapsFor (hostRate, modelRate);
    const int kOut = Resampler::halfTapsFor (modelRate, hostRate);
    // The in path has no extra delay: model sample j is the host signal at tick j * modelTick,
    // emitted as soon as the host samples it needs have arrived. The out path's delay covers
    // the time both filters look ahead (see the schedule proof in tests/cpp/test_resampler.cpp):
    //   delayOut >= modelTick * kOut + hostTick * kIn + modelTick - hostTick,
    // then grows until the whole chain is an integer number of host samples.
    int64_t delayOut = modelTick * kOut + hostTick * kIn + modelTick + hostTick;
    const int64_t modelPath = modelTick * (int64_t) modelSideDelay;
    delayOut += (hostTick - (delayOut + modelPath) % hostTick) % hostTick;
    lat = (int) ((delayOut + modelPath) / hostTick);

    const int maxHost = std::max (1, maxHostBlock);
    in = std::make_unique<Resampler> (hostRate, modelRate, inLanes, maxHost, 0);
    maxModel = in->maxOutputsPerPush (maxHost);
    out = std::make_unique<Resampler> (modelRate, hostRate, outLanes, maxModel, delayOut);
}

void ResamplingPair::reset() noexcept
{
    in->reset();
    out->reset();
}

} // namespace nnplug
