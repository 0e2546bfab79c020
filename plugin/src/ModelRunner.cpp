// libtorch headers come before anything that might define conflicting macros.
#include <torch/script.h>
#include <ATen/Parallel.h>
#include <ATen/CPUGeneratorImpl.h>

#include "ModelRunner.h"
#include "ModelCall.h"
#include "ModelFile.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <vector>

namespace nnplug {

struct ModelRunner::Impl
{
    torch::jit::Module module;
    // The stream's start: every module buffer as it was at load (or a Neutone file's prepare).
    struct SavedBuffer
    {
        torch::jit::Module owner;
        std::string name;
        at::Tensor value;
    };
    std::vector<SavedBuffer> initial;
    // Neutone: the [kNeutoneKnobs, n] knob tensor forward takes, and the values in it.
    at::Tensor knobs;
    std::array<float, kNeutoneKnobs> knobValues {};
    // nn~ attributes: each control's set_<name>, found once (no lookup or string built on the
    // inference thread), and the value last given to it (NaN: none yet).
    std::vector<std::optional<torch::jit::Method>> setters;
    std::array<double, kMaxModelControls> applied {};
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

ModelRunner::ModelRunner (const std::string& path, MethodChoice method) : impl (std::make_unique<Impl>())
{
    adopt (readModelFile (path, method));
}

ModelRunner::ModelRunner (const LoadedModule& loaded, MethodChoice method) : impl (std::make_unique<Impl>())
{
    adopt (describeModule (loaded, method));
}

std::shared_ptr<const LoadedModule> ModelRunner::read (const std::string& path)
{
    return std::make_shared<const LoadedModule> (loadModule (path));
}

void ModelRunner::adopt (ModelFile&& file)
{
    impl->module = std::move (file.module);
    modelInfo = std::move (file.info);
    impl->applied.fill (std::nan (""));
    for (const auto& c : modelInfo.controls)
        impl->setters.push_back (c.kind == "attribute" ? impl->module.find_method ("set_" + c.name) : std::nullopt);
    snapshot();
}

void ModelRunner::snapshot()
{
    ModelCallScope scope;
    impl->initial.clear();
    for (const auto& sub : impl->module.named_modules())
        for (const auto& b : sub.value.named_buffers (false))
            impl->initial.push_back ({ sub.value, b.name, b.value.detach().clone() });
}

void ModelRunner::setMeasuredDelay (std::optional<int> delay)
{
    modelInfo.delayMeasured = true;
    modelInfo.delayKnown = delay.has_value();
    modelInfo.delay = delay.value_or (0);
}

ModelRunner::~ModelRunner() = default;

void ModelRunner::prepare (int batch, int bufferSize, double hostRate)
{
    const auto& info = modelInfo;
    // The trials below must not take numbers from the generator the host's own code (and the
    // stream that follows) draws from.
    FixedRandomness untouchedGenerator (kMeasureSeed);
    untouchedGenerator.reseed();
    if (batch < 1)
        throw ModelError ("batch must be >= 1");
    if (bufferSize < 1 || bufferSize % info.ratio != 0)
        throw ModelError ("buffer size " + std::to_string (bufferSize) + " is not a multiple of the model's ratio "
                          + std::to_string (info.ratio));
    batchSize = batch;
    n = bufferSize;
    if (info.neutone)
        prepareNeutone (hostRate > 0 ? hostRate : 48000.0);
    const std::vector<float> silence ((size_t) inLanes() * (size_t) n, 0.0f);
    std::vector<float> out ((size_t) outLanes() * (size_t) n, 0.0f);

    // The shape contract is checked once here, on silence, then the stream starts afresh.
    // The trial also times the model. A method's first call builds its interpreter code and
    // the allocator's pools, and a busy machine can stall any single call, so a model is too
    // slow only when kTrialCalls calls in a row are all over the limit; a fast model makes one.
    const double budget = n / (info.sampleRate > 0 ? info.sampleRate : hostRate > 0 ? hostRate : 44100.0);
    constexpr int kTrialCalls = 4;
    trialTime = 1e300;
    for (int attempt = 0; attempt < kTrialCalls; ++attempt)
    {
        const auto t0 = std::chrono::steady_clock::now();
        if (! run (silence.data(), out.data()))
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
    if (! resetStream())
        throw ModelError ("model reset() failed: " + error);
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

// Why an output is refused (non-finite, or beyond kMaxAbsOutput); empty when it is fine.
std::string checkSamples (const float* p, size_t count)
{
    for (size_t i = 0; i < count; ++i)
    {
        if (! std::isfinite (p[i]))
            return "model output contains NaN or Inf";
        if (std::abs (p[i]) > kMaxAbsOutput)
        {
            char msg[128];
            std::snprintf (msg, sizeof (msg), "model output exceeds +-%g (%g): a broken model", (double) kMaxAbsOutput,
                           (double) p[i]);
            return msg;
        }
    }
    return {};
}

} // namespace

void ModelRunner::prepareNeutone (double hostRate)
{
    auto& m = impl->module;
    try
    {
        ModelCallScope scope;
        // The wrapper resamples to its native rate and re-blocks to its native buffer itself.
        m.get_method ("set_daw_sample_rate_and_buffer_size") ({ (int64_t) std::lround (hostRate), (int64_t) n });
        const auto buffering = m.get_method ("calc_buffering_delay_samples") ({}).toInt();
        const auto delay = m.get_method ("calc_model_delay_samples") ({}).toInt();
        modelInfo.delay = (int) std::clamp<int64_t> (buffering + delay, 0, kMaxDelay);
        modelInfo.delayKnown = true;
        impl->knobValues.fill (0.0f);
        if (hasMethod (m, "get_default_param_values"))
        {
            auto d = m.get_method ("get_default_param_values") ({}).toTensor().flatten().to (torch::kFloat32).contiguous();
            for (int64_t i = 0; i < std::min<int64_t> (d.numel(), kNeutoneKnobs); ++i)
                impl->knobValues[(size_t) i] = d.data_ptr<float>()[i];
        }
        impl->knobs = torch::empty ({ kNeutoneKnobs, n }, torch::kFloat32);
        for (int r = 0; r < kNeutoneKnobs; ++r)
            impl->knobs[r].fill_ (impl->knobValues[(size_t) r]);
    }
    catch (const std::exception& e)
    {
        throw ModelError (std::string ("Neutone model refused the host's rate and buffer: ") + firstErrorLine (e.what()));
    }
    snapshot();
}

void ModelRunner::applyModelControls()
{
    if (modelControls == nullptr)
        return;
    const auto& controls = modelInfo.controls;
    for (size_t i = 0; i < controls.size() && i < (size_t) kMaxModelControls; ++i)
    {
        const auto& spec = controls[i];
        const double v = spec.valueAt ((*modelControls)[i].load (std::memory_order_relaxed));
        if (spec.kind == "knob")
        {
            if (spec.slot >= 0 && spec.slot < kNeutoneKnobs && impl->knobValues[(size_t) spec.slot] != (float) v)
            {
                impl->knobValues[(size_t) spec.slot] = (float) v;
                impl->knobs[spec.slot].fill_ ((float) v);
            }
            continue;
        }
        if (v == impl->applied[i])
            continue;
        c10::IValue typed = spec.type == "bool" ? c10::IValue (v >= 0.5)
                          : spec.type == "int"  ? c10::IValue ((int64_t) v)
                                                : c10::IValue (v);
        if (! impl->setters[i])
            continue;
        (*impl->setters[i]) ({ typed });
        impl->applied[i] = v;
    }
}

bool ModelRunner::run (const float* inBuffer, float* outBuffer) noexcept
{
    const auto& info = modelInfo;
    try
    {
        useSingleInferenceThread();
        ModelCallScope scope;
        auto& m = impl->module;
        // The model reads the caller's buffer in place (a model that writes its input only
        // changes a buffer the caller refills anyway).
        auto in = torch::from_blob (const_cast<float*> (inBuffer), { batchSize, info.inChannels(), n }, torch::kFloat32);

        applyModelControls();
        c10::IValue result;
        if (info.neutone)
        {
            // One call per stream: the wrapper takes [channels, N] and the knob rows.
            std::vector<at::Tensor> outs;
            for (int b = 0; b < batchSize; ++b)
            {
                auto y = m.forward ({ in[b], impl->knobs });
                if (! y.isTensor())
                {
                    error = "forward did not return a tensor";
                    return false;
                }
                outs.push_back (y.toTensor());
            }
            result = torch::stack (outs);
        }
        else if (! info.latentPath)
            result = m.forward ({ in });
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
            if (latent != nullptr)
            {
                const LatentSettings settings (*latent);
                if (! settings.unity ((int) zt.size (1)))
                {
                    zt = zt.clone (at::MemoryFormat::Contiguous);   // encode's result may be shared
                    settings.apply (zt.data_ptr<float>(), batchSize, (int) zt.size (1), (int) frames);
                }
            }
            // What decode receives, for the editor: read in place (no copy, no allocation).
            if (monitor != nullptr && zt.dim() == 3 && zt.scalar_type() == at::kFloat && zt.device().is_cpu())
                monitor->write (zt.data_ptr<float>(), (int) zt.size (1), (int) frames, (long) zt.stride (1), (long) zt.stride (2));
            result = m.get_method ("decode") ({ zt });
        }

        if (auto e = checkShape (result, batchSize, info.outChannels(), n, info.latentPath ? "decode" : "forward"); ! e.empty())
        {
            error = e;
            return false;
        }
        auto out = result.toTensor().contiguous();
        const float* p = out.data_ptr<float>();
        const size_t count = (size_t) outLanes() * (size_t) n;
        if (auto e = checkSamples (p, count); ! e.empty())
        {
            error = e;
            return false;
        }
        std::memcpy (outBuffer, p, count * sizeof (float));
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

bool ModelRunner::resetStream() noexcept
{
    try
    {
        ModelCallScope scope;
        for (auto& saved : impl->initial)
        {
            auto now = saved.owner.attr (saved.name);
            if (now.isTensor() && now.toTensor().sizes() == saved.value.sizes()
                && now.toTensor().scalar_type() == saved.value.scalar_type())
                now.toTensor().copy_ (saved.value);
            else   // the file replaced the buffer (a cache resized for another batch)
                saved.owner.setattr (saved.name, saved.value.clone());
        }
        if (modelInfo.hasReset)
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

struct ModelRunner::FixedRandomness::Saved
{
    at::Tensor state;
};

ModelRunner::FixedRandomness::FixedRandomness (unsigned long long s) : saved (std::make_unique<Saved>()), seed (s)
{
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock (gen.mutex());
    saved->state = gen.get_state();
}

ModelRunner::FixedRandomness::~FixedRandomness()
{
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock (gen.mutex());
    gen.set_state (saved->state);
}

void ModelRunner::FixedRandomness::reseed()
{
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock (gen.mutex());
    gen.set_current_seed (seed);
}

} // namespace nnplug
