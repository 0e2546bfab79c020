// libtorch headers come before anything that might define conflicting macros.
#include <torch/script.h>
#include <ATen/Parallel.h>
#include <ATen/CPUGeneratorImpl.h>

#include "ModelHost.h"
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

namespace {

// The reason in an exception's text: its first line (c10::Error appends a backtrace), or for
// an error raised inside TorchScript code, the last line (the script's own exception).
std::string firstLine (const char* what)
{
    std::string s (what ? what : "unknown error");
    if (s.rfind ("The following operation failed in the TorchScript interpreter", 0) == 0)
    {
        while (! s.empty() && (s.back() == '\n' || s.back() == ' '))
            s.pop_back();
        if (auto nl = s.rfind ('\n'); nl != std::string::npos)
            return s.substr (nl + 1);
    }
    if (auto nl = s.find ('\n'); nl != std::string::npos)
        s.resize (nl);
    return s;
}

bool hasMethod (torch::jit::Module& m, const std::string& name)
{
    return m.find_method (name).has_value();
}

// A numeric attribute as a double (no narrowing: an absurd value must be seen, not wrapped).
double attrNumber (torch::jit::Module& m, const char* name, double fallback, bool* found = nullptr)
{
    if (! m.hasattr (name))
        return fallback;
    auto v = m.attr (name);
    double r = fallback;
    if (v.isInt()) r = (double) v.toInt();
    else if (v.isDouble()) r = v.toDouble();
    else if (v.isBool()) r = v.toBool() ? 1 : 0;
    else return fallback;
    if (found != nullptr) *found = true;
    return r;
}

int attrInt (torch::jit::Module& m, const char* name, int fallback)
{
    const double v = attrNumber (m, name, fallback);
    return std::isfinite (v) && v >= 0 && v <= 1e9 ? (int) v : fallback;
}

} // namespace

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
    modelInfo.path = path;
    std::error_code ec;
    if (! std::filesystem::is_regular_file (path, ec))
        throw ModelError ("model file not found: " + path);

    torch::jit::ExtraFilesMap extra { { "nnplug.json", "" } };
    try
    {
        impl->module = torch::jit::load (path, torch::kCPU, extra);
        impl->module.eval();
    }
    catch (const std::exception& e)
    {
        throw ModelError ("not a loadable TorchScript file (" + path + "): " + firstLine (e.what()));
    }

    try
    {
        readConvention();

        std::string json = extra["nnplug.json"];
        if (json.empty() && impl->module.hasattr ("nnplug_metadata"))
        {
            auto v = impl->module.attr ("nnplug_metadata");
            if (v.isString())
                json = v.toStringRef();
        }
        if (! json.empty())
            readMetadata (json);
    }
    catch (const ModelError&) { throw; }
    catch (const std::exception& e)
    {
        throw ModelError ("cannot read the model's interface: " + firstLine (e.what()));
    }

    auto& info = modelInfo;
    if (info.name.empty())
        info.name = std::filesystem::path (path).stem().string();

    // The audio path: encode -> decode when both exist and fit together (so the latent
    // controls can act), forward otherwise.
    const auto& e = info.encode;
    const auto& d = info.decode;
    info.latentPath = e.present && d.present && e.inRatio == 1 && d.outRatio == 1
                      && e.outChannels == d.inChannels && e.outRatio == d.inRatio && e.outRatio >= 1;
    if (! info.latentPath)
    {
        if (! info.forward.present)
            throw ModelError ("model has no usable method: needs forward_params (or encode/decode) per the nn~ convention");
        if (info.forward.inRatio != 1 || info.forward.outRatio != 1)
            throw ModelError ("forward is not audio-to-audio (in_ratio " + std::to_string (info.forward.inRatio)
                              + ", out_ratio " + std::to_string (info.forward.outRatio) + ")");
    }
    else
    {
        info.latentSize = info.latentSize > 0 ? info.latentSize : e.outChannels;
        info.ratio = std::lcm (info.ratio, e.outRatio);
        if (e.delay >= 0 && d.delay >= 0)
        {
            // Each method's delay counts samples of its own output rate: encode's latent
            // frames are e.outRatio audio samples apart.
            info.delay = e.delay * e.outRatio + d.delay;
            info.delayKnown = true;
        }
    }
    if (info.inChannels() < 1 || info.outChannels() < 1)
        throw ModelError ("model declares no audio channels");
    if (info.latentSize < 0 || info.latentSize > 65536)
        info.latentSize = 0;
    if (info.ratio > kMaxRatio)
        throw ModelError ("model ratio " + std::to_string (info.ratio) + " is absurd (limit " + std::to_string (kMaxRatio) + ")");
    if (info.sampleRateStated && ! (info.sampleRate >= kMinSampleRate && info.sampleRate <= kMaxSampleRate))
    {
        char rate[64];
        std::snprintf (rate, sizeof (rate), "%g", info.sampleRate);
        throw ModelError (std::string ("model sample rate ") + rate + " Hz is not plausible (expected "
                          + std::to_string ((int) kMinSampleRate) + " to " + std::to_string ((int) kMaxSampleRate)
                          + " Hz): re-export it with the right rate");
    }
    if (! info.streaming)
        throw ModelError ("not a streaming model (its nnplug metadata says streaming: false): each buffer would be "
                          "processed alone and click at buffer edges. Convert it with nnplug.streaming.convert");
}

ModelHost::~ModelHost() = default;

void ModelHost::readConvention()
{
    auto& m = impl->module;
    auto& info = modelInfo;

    if (hasMethod (m, "get_methods"))
    {
        ModelCallScope scope;
        auto list = m.get_method ("get_methods") ({});
        for (const auto& v : list.toListRef())
            info.methods.push_back (v.toStringRef());
    }
    else
    {
        for (const char* name : { "forward", "encode", "decode" })
            if (hasMethod (m, name))
                info.methods.push_back (name);
    }

    auto readParams = [&] (const std::string& method, MethodSpec& spec)
    {
        const std::string attr = method + "_params";
        if (! hasMethod (m, method) || ! m.hasattr (attr))
            return;
        auto value = m.attr (attr);
        if (! value.isTensor())
            throw ModelError (attr + " must be an integer tensor of 4 values, is not a tensor");
        auto raw = value.toTensor();
        if (raw.dim() != 1 || raw.numel() != 4 || ! c10::isIntegralType (raw.scalar_type(), false))
            throw ModelError (attr + " must be an integer tensor of 4 values [in_channels, in_ratio, out_channels, "
                              "out_ratio], has " + std::to_string (raw.numel()) + " values of type "
                              + std::string (c10::toString (raw.scalar_type())) + " in " + std::to_string (raw.dim())
                              + " dimension(s)");
        auto t = raw.to (torch::kLong).contiguous();
        auto a = t.accessor<int64_t, 1>();
        // encode's output and decode's input are latent channels, not audio: RAVE v2 exports
        // have 128 and more (the RAVE v2-sized benchmark model of `nnplug bench plugin` has 128).
        const int maxIn = method == "decode" ? kMaxLatentChannels : kMaxChannels;
        const int maxOut = method == "encode" ? kMaxLatentChannels : kMaxChannels;
        for (int i = 0; i < 4; ++i)
            if (a[i] < 1 || a[i] > (i == 0 ? maxIn : i == 2 ? maxOut : kMaxRatio))
                throw ModelError (attr + " has an entry out of range (channels 1.." + std::to_string (i == 0 ? maxIn : maxOut)
                                  + ", ratios 1.." + std::to_string (kMaxRatio) + ")");
        spec.present = true;
        spec.inChannels = (int) a[0]; spec.inRatio = (int) a[1];
        spec.outChannels = (int) a[2]; spec.outRatio = (int) a[3];
    };
    readParams ("forward", info.forward);
    readParams ("encode", info.encode);
    readParams ("decode", info.decode);

    info.hasReset = hasMethod (m, "reset");
    info.ratio = std::max ({ 1, info.forward.inRatio, info.forward.outRatio });

    // RAVE exports (and other nn~ models) carry no delay: prepare() measures it with an impulse.
    if (m.hasattr ("full_latent_size") || (m.hasattr ("sr") && m.hasattr ("latent_size")))
    {
        info.format = "rave-v2";
        info.sampleRate = attrNumber (m, "sr", 0, &info.sampleRateStated);
        info.latentSize = attrInt (m, "latent_size", 0);
        info.deterministic = false;
    }
    else if (m.hasattr ("sampling_rate") && m.hasattr ("_rave"))
    {
        info.format = "rave-v1";
        info.sampleRate = attrNumber (m, "sampling_rate", 0, &info.sampleRateStated);
        info.latentSize = attrInt (m, "latent_size", 0);
        info.deterministic = false;
    }
    else
    {
        info.format = "nn~";
        info.sampleRate = m.hasattr ("sr") ? attrNumber (m, "sr", 0, &info.sampleRateStated)
                                           : attrNumber (m, "sampling_rate", 0, &info.sampleRateStated);
    }
}

void ModelHost::readMetadata (const std::string& text)
{
    Json j;
    try { j = Json::parse (text); }
    catch (const JsonError& e) { throw ModelError (std::string ("nnplug metadata is not valid JSON: ") + e.what()); }
    if (! j.isObject())
        throw ModelError ("nnplug metadata is not a JSON object");
    const int fv = j["format_version"].integer (0);
    if (fv != 1)
        throw ModelError ("unsupported nnplug metadata format_version " + std::to_string (fv));

    auto& info = modelInfo;
    info.format = "nnplug";
    info.metadataJson = text;
    info.name = j["name"].str();
    info.author = j["author"].str();
    info.description = j["description"].str();
    info.version = j["version"].str();
    if (j["sample_rate"].isNumber())
    {
        info.sampleRate = j["sample_rate"].number();
        info.sampleRateStated = true;
    }
    const int ratio = j["ratio"].integer (-1);
    if (ratio < 1 || ratio > kMaxRatio)
        throw ModelError ("nnplug metadata: ratio must be 1.." + std::to_string (kMaxRatio));
    if (j["streaming"].boolean (true) == false)
        info.streaming = false;
    info.ratio = std::lcm (info.ratio, ratio);
    if (j["delay"].isNumber())
    {
        info.delay = j["delay"].integer (-1);
        if (info.delay > kMaxDelay)
            throw ModelError ("nnplug metadata: delay " + std::to_string (info.delay) + " is absurd (limit "
                              + std::to_string (kMaxDelay) + " samples)");
        info.delayKnown = info.delay >= 0;
        info.delay = std::max (0, info.delay);
    }
    info.latentSize = j["latent_size"].integer (info.latentSize);
    info.deterministic = j["deterministic"].boolean (true);

    auto methodDelay = [&] (const char* name, MethodSpec& spec)
    {
        const auto& mj = j["methods"][name];
        if (mj.isObject() && mj["delay"].isNumber())
            spec.delay = std::clamp (mj["delay"].integer (-1), -1, kMaxDelay);
    };
    methodDelay ("forward", info.forward);
    methodDelay ("encode", info.encode);
    methodDelay ("decode", info.decode);
}

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
        error = "model threw: " + firstLine (e.what());
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
        error = "reset() threw: " + firstLine (e.what());
    }
    catch (...)
    {
        error = "reset() threw an unknown exception";
    }
    return false;
}

} // namespace nnplug
