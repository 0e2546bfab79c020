#include "DelayProbe.h"

#include <algorithm>
#include <vector>

namespace nnplug {

std::optional<int> energyMedian (const std::vector<double>& energy, int start)
{
    std::vector<double> cumulative (energy.size());
    double sum = 0;
    for (size_t i = 0; i < energy.size(); ++i)
        cumulative[i] = sum += energy[i];
    if (energy.empty() || ! (cumulative.back() > 0.0))
        return std::nullopt;
    const double half = 0.5 * cumulative.back();
    const auto at = std::lower_bound (cumulative.begin(), cumulative.end(), half);
    return (int) (at - cumulative.begin()) - start;
}

std::optional<int> measureDelay (ModelRunner& runner)
{
    runner.prepare (1, autoBufferSize (runner.info().ratio));
    const int n = runner.bufferSize();
    const int start = n;
    const int buffers = 1 + std::max (8, (kDelayWindow + n - 1) / n);
    const size_t inCount = (size_t) runner.inLanes() * (size_t) n;
    const size_t outCount = (size_t) runner.outLanes() * (size_t) n;
    std::vector<float> in (inCount, 0.0f), out (outCount, 0.0f);
    std::vector<float> silent ((size_t) buffers * outCount, 0.0f);   // the silent stream's output
    std::vector<double> energy ((size_t) buffers * (size_t) n, 0.0); // of the difference, summed over lanes

    bool ok = true;
    {
        ModelRunner::FixedRandomness randomness (kMeasureSeed);
        for (int pass = 0; pass < 2 && ok; ++pass)
        {
            ok = runner.resetStream();
            randomness.reseed();
            for (int b = 0; b < buffers && ok; ++b)
            {
                std::fill (in.begin(), in.end(), 0.0f);
                if (pass == 1 && b == start / n)
                    for (int lane = 0; lane < runner.inLanes(); ++lane)
                        in[(size_t) lane * (size_t) n + (size_t) (start % n)] = 1.0f;
                ok = runner.run (in.data(), out.data());
                if (! ok)
                    break;
                float* quiet = silent.data() + (size_t) b * outCount;
                if (pass == 0)
                    std::copy (out.begin(), out.end(), quiet);
                else
                    for (size_t lane = 0; lane < (size_t) runner.outLanes(); ++lane)
                        for (size_t t = 0; t < (size_t) n; ++t)
                        {
                            const double d = (double) out[lane * (size_t) n + t] - (double) quiet[lane * (size_t) n + t];
                            energy[(size_t) b * (size_t) n + t] += d * d;
                        }
            }
        }
    }
    if (! ok)
        throw ModelError ("model failed while its delay was measured: " + runner.lastError());
    if (! runner.resetStream())
        throw ModelError ("model reset() failed: " + runner.lastError());
    const auto delay = energyMedian (energy, start);
    return delay ? std::optional<int> (std::max (0, *delay)) : std::nullopt;
}

} // namespace nnplug
