#include "DelayProbe.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace nnplug {

std::optional<int> measureDelay (ModelRunner& runner)
{
    const int n = runner.bufferSize();
    const int start = n;
    const int buffers = std::max (16, (32768 + n - 1) / n);
    const size_t inCount = (size_t) runner.inLanes() * (size_t) n;
    const size_t outCount = (size_t) runner.outLanes() * (size_t) n;
    const size_t lanes = (size_t) std::max (1, runner.outLanes());
    std::vector<float> in (inCount, 0.0f), out (outCount, 0.0f);
    std::vector<float> silent ((size_t) buffers * outCount, 0.0f);   // the silent stream's output
    std::vector<double> diff ((size_t) buffers * (size_t) n, 0.0);    // summed over the lanes

    bool ok = true;
    {
        ModelRunner::FixedRandomness randomness (0x6e6e706c);
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
                float* keep = silent.data() + (size_t) b * outCount;
                if (pass == 0)
                    std::copy (out.begin(), out.end(), keep);
                else
                    for (size_t lane = 0; lane < lanes; ++lane)
                        for (size_t t = 0; t < (size_t) n; ++t)
                            diff[(size_t) b * (size_t) n + t]
                                += std::abs ((double) out[lane * (size_t) n + t] - keep[lane * (size_t) n + t]);
            }
        }
    }
    if (! ok)
        throw ModelError ("model failed while its delay was measured: " + runner.lastError());
    if (! runner.resetStream())
        throw ModelError ("model reset() failed: " + runner.lastError());
    const auto peak = std::max_element (diff.begin(), diff.end());
    if (*peak > 0.0 && peak - diff.begin() >= start)
        return (int) (peak - diff.begin()) - start;
    return std::nullopt;
}

} // namespace nnplug
