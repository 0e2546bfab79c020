// libtorch headers come before anything that might define conflicting macros.
#include <torch/script.h>
#include <ATen/Parallel.h>
#include <ATen/CPUGeneratorImpl.h>

#include "ModelHost.h"
#include "ModelFile.h"
#include "ModelCall.h"
#include "Json.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <numeric>

namespace nnplug {

struct ModelHost::Impl
{
    torch::jit::Module module;
};


void useSingleInferenceThread()
{
    // OpenMP's thread count is per thread, so each inference thread sets it once.
    thread_local bool done = false;
    if (! done)
    {
        if (at::get_num_threads() != 1)
            at::set_num_threads (1);
        done = true;
    }
}

ModelHost::ModelHost (const std::string& path) : impl (std::make_unique<Impl>())
{
    auto file = readModelFile (path);
    impl->module = std::move (file.module);
    modelInfo = std::move (file.info);
}

ModelHost::~ModelHost() = default;

void ModelHost::prepare (int batch, int bufferSize)
{
    const auto& info = modelInfo;
    if (batch < 1)
        throw ModelError ("batch must be >= 1");
    if (bufferSize < 1 || bufferSize % info.ratio != 0)
        throw ModelError ("buffer size " + std::to_string (bufferSize) + " is not a multiple of the model's ratio "
                          + std::to_string (info.ratio));
    batchSize = batch;
    n = bufferSize;
    inBuf.assign ((size_t) batch * (size_t) info.inChannels() * (size_t) n, 0.0f);
    outBuf.assign ((size_t) batch * (size_t) info.outChannels() * (size_t) n, 0.0f);

    // The shape contract is checked once here, on silence, then the stream starts afresh.
    // The trial also times the model. A method's first call builds its interpreter code and
    // the allocator's pools, and a busy machine can stall any single call, so a model is too
    // slow only when kTrialCalls calls in a row are all over the limit; a fast model makes one.
    const double budget = n / (info.sampleRate > 0 ? info.sampleRate : 44100.0);
    constexpr int kTrialCalls = 4;
    trialTime = 1e300;
    for (int attempt = 0; attempt < kTrialCalls; ++attempt)
    {
        const auto t0 = std::chrono::steady_clock::now();
        if (! run())
            throw ModelError ("model failed its first buffer: " + error);
        trialTime = std::min (trialTime, std::chrono::duration<double> (std::chrono::steady_clock::now() - t0).count());
        if (trialTime <= kMaxRealtimeFactor * budget)
            break;
        if (attempt == kTrialCalls - 1)
        {
            char msg[256];
            std::snprintf (msg, sizeof (msg),
                           "model too slow for real time: a buffer of %d samples (%.1f ms) took %.0f ms, %.0fx real "
                           "time (limit %gx)", n, 1000.0 * budget, 1000.0 * trialTime, trialTime / budget,
                           kMaxRealtimeFactor);
            throw ModelError (msg);
        }
    }
    if (! modelInfo.delayKnown)
        measureDelay();
    if (! resetStream())
        throw ModelError ("model reset() failed: " + error);
    std::fill (outBuf.begin(), outBuf.end(), 0.0f);
}

void ModelHost::measureDelay()
{
    // As `nnplug inspect` does: one stream fed silence, one fed an impulse at `start`; the
    // delay is where their outputs differ most, minus `start`. Both runs draw the same random
    // numbers (the default generator is seeded alike for both and restored afterwards), so a
    // stochastic model (RAVE's encode/decode sample noise) differs only by the impulse's effect.
    const int start = n;
    const int buffers = std::max (16, (32768 + n - 1) / n);
    const size_t outLen = outBuf.size() / (size_t) batchSize / (size_t) std::max (1, modelInfo.outChannels());
    std::vector<double> diff ((size_t) buffers * outLen, 0.0);
    std::vector<float> first ((size_t) buffers * outBuf.size(), 0.0f);
    auto gen = at::detail::getDefaultCPUGenerator();
    at::Tensor saved;
    {
        std::lock_guard<std::mutex> lock (gen.mutex());
        saved = gen.get_state();
    }
    bool ok = true;
    for (int pass = 0; pass < 2 && ok; ++pass)
    {
        ok = resetStream();
        {
            std::lock_guard<std::mutex> lock (gen.mutex());
            gen.set_current_seed (0x6e6e706c);
        }
        for (int b = 0; b < buffers && ok; ++b)
        {
            std::fill (inBuf.begin(), inBuf.end(), 0.0f);
            if (pass == 1 && b == start / n)
                for (int lane = 0; lane < batchSize * modelInfo.inChannels(); ++lane)
                    inBuf[(size_t) lane * (size_t) n + (size_t) (start % n)] = 1.0f;
            ok = run();
            if (! ok)
                break;
            float* keep = first.data() + (size_t) b * outBuf.size();
            if (pass == 0)
                std::memcpy (keep, outBuf.data(), sizeof (float) * outBuf.size());
            else
                for (size_t lane = 0; lane < outBuf.size() / outLen; ++lane)
                    for (size_t t = 0; t < outLen; ++t)
                        diff[(size_t) b * outLen + t] += std::abs ((double) outBuf[lane * outLen + t] - keep[lane * outLen + t]);
        }
    }
    {
        std::lock_guard<std::mutex> lock (gen.mutex());
        gen.set_state (saved);
    }
    if (! ok)
        throw ModelError ("model failed while its delay was measured: " + error);
    const auto peak = std::max_element (diff.begin(), diff.end());
    if (*peak > 0.0 && peak - diff.begin() >= start)
    {
        modelInfo.delay = (int) (peak - diff.begin()) - start;
        modelInfo.delayKnown = true;
        modelInfo.delayMeasured = true;
    }
    std::fill (inBuf.begin(), inBuf.end(), 0.0f);
}

namespace {

// Checks a method's result against the contract; returns an empty string when it holds.
std::string checkShape (const c10::IValue& v, int64_t batch, int64_t channels, int64_t length, const char* method)
{
    if (! v.isTensor())
        return std::string (method) + " did not return a tensor";
    const auto& t = v.toTensor();
    if (t.scalar_type() != torch::kFloat32)
        return std::string (method) + " returned " + std::string (c10::toString (t.scalar_type())) + ", expected float32";
    if (t.dim() != 3 || t.size (0) != batch || t.size (1) != channels || t.size (2) != length)
    {
        std::string got = "(";
        for (int64_t i = 0; i < t.dim(); ++i)
            got += (i ? ", " : "") + std::to_string (t.size (i));
        return std::string (method) + " returned shape " + got + "), expected (" + std::to_string (batch) + ", "
               + std::to_string (channels) + ", " + std::to_string (length) + ")";
    }
    return {};
}

} // namespace

bool ModelHost::run() noexcept
{
    const auto& info = modelInfo;
    try
    {
        useSingleInferenceThread();
        ModelCallScope scope;
        auto& m = impl->module;
        auto in = torch::from_blob (inBuf.data(), { batchSize, info.inChannels(), n }, torch::kFloat32);

        c10::IValue result;
        if (! info.latentPath)
        {
            result = m.forward ({ in });
        }
        else
        {
            auto z = m.get_method ("encode") ({ in });
            const int64_t frames = n / info.encode.outRatio;
            if (auto e = checkShape (z, batchSize, info.encode.outChannels, frames, "encode"); ! e.empty())
            {
                error = e;
                return false;
            }
            auto zt = z.toTensor();
            // At unity (scale 1, bias 0) the latent goes to decode untouched.
            if (latent != nullptr)
            {
                const int dims = std::min (kLatentControls, (int) zt.size (1));
                bool cloned = false;
                for (int d = 0; d < dims; ++d)
                {
                    const float s = latent->scale[(size_t) d].load (std::memory_order_relaxed);
                    const float b = latent->bias[(size_t) d].load (std::memory_order_relaxed);
                    if (s == 1.0f && b == 0.0f)
                        continue;
                    if (! cloned) { zt = zt.clone(); cloned = true; }
                    zt.select (1, d).mul_ (s).add_ (b);
                }
            }
            result = m.get_method ("decode") ({ zt });
        }

        if (auto e = checkShape (result, batchSize, info.outChannels(), n, info.latentPath ? "decode" : "forward"); ! e.empty())
        {
            error = e;
            return false;
        }
        auto out = result.toTensor().contiguous();
        const float* p = out.data_ptr<float>();
        const size_t count = outBuf.size();
        for (size_t i = 0; i < count; ++i)
        {
            if (! std::isfinite (p[i]))
            {
                error = "model output contains NaN or Inf";
                return false;
            }
            if (std::abs (p[i]) > kMaxAbsOutput)
            {
                char msg[128];
                std::snprintf (msg, sizeof (msg), "model output exceeds +-%g (%g): a broken model", (double) kMaxAbsOutput,
                               (double) p[i]);
                error = msg;
                return false;
            }
        }
        std::memcpy (outBuf.data(), p, count * sizeof (float));
        return true;
    }
    catch (const std::exception& e)
    {
        error = "model threw: " + firstErrorLine (e.what());
    }
    catch (...)
    {
        error = "model threw an unknown exception";
    }
    return false;
}

bool ModelHost::resetStream() noexcept
{
    if (! modelInfo.hasReset)
        return true;
    try
    {
        ModelCallScope scope;
        impl->module.get_method ("reset") ({});
        return true;
    }
    catch (const std::exception& e)
    {
        error = "reset() threw: " + firstErrorLine (e.what());
    }
    catch (...)
    {
        error = "reset() threw an unknown exception";
    }
    return false;
}

} // namespace nnplug
