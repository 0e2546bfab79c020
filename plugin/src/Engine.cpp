#include "Engine.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace nnplug {

int chooseBufferSize (int requested, int ratio)
{
    ratio = std::max (1, ratio);
    const int want = requested > 0 ? requested : 1024;
    return ((want + ratio - 1) / ratio) * ratio;
}

Engine::Engine (std::unique_ptr<ModelHost> m, const EngineConfig& config, const Controls& c)
    : model (std::move (m)), cfg (config), controls (c)
{
    if (! model)
        throw ModelError ("no model");
    const auto& mi = model->info();
    cfg.hostChannels = std::max (1, cfg.hostChannels);
    cfg.maxBlock = std::max (1, cfg.maxBlock);
    const int H = cfg.hostChannels;
    n = chooseBufferSize (cfg.bufferSize, mi.ratio);

    // A mono model on a multichannel host runs each channel as one item of the batch (its
    // own streaming state), or once on the downmix.
    const bool perChannel = mi.inChannels() == 1 && H > 1 && cfg.channelMode == ChannelMode::PerChannel;
    batchSize = perChannel ? H : 1;
    inLanes = batchSize * mi.inChannels();
    outLanes = batchSize * mi.outChannels();

    model->prepare (batchSize, n);   // throws ModelError with the reason
    // Warm-up (see kWarmupBuffers): every method the audio thread calls, reset() included,
    // runs once now. prepare() left the input silent and the stream fresh.
    // Best effort: a model that fails here passed prepare(), so it fails on the audio thread
    // as any mid-stream failure does (contained: dry or silence), not at load.
    for (int i = 0; i < kWarmupBuffers; ++i)
        if (! model->run() || ! model->resetStream())
            break;
    model->setLatentControls (&controls.latent);

    // A model at another rate than the host's runs behind a resampler pair; at equal rates
    // (or when the model does not say its rate) nothing is resampled, not even by a no-op.
    const int hostRate = (int) std::lround (cfg.hostRate);
    const int modelRate = (int) std::lround (mi.sampleRate);
    const bool resample = modelRate > 0 && hostRate > 0 && modelRate != hostRate;
    int modelMaxBlock = cfg.maxBlock;
    if (resample)
        modelMaxBlock = Resampler (hostRate, modelRate, 1, cfg.maxBlock, 0).maxOutputsPerPush (cfg.maxBlock);

    ReblockerConfig rc;
    rc.inLanes = inLanes;
    rc.outLanes = outLanes;
    rc.bufferSize = n;
    rc.maxBlock = modelMaxBlock;
    // Resampled blocks vary in size by a sample: only the any-sequence latency holds.
    rc.hostBlock = resample ? 0 : cfg.hostBlock;
    rc.mode = cfg.mode;
    reblocker = std::make_unique<Reblocker> (rc, static_cast<BufferProcessor&> (*this));

    const int modelSide = reblocker->latency() + (mi.delayKnown ? mi.delay : 0);   // model samples
    if (resample)
    {
        try
        {
            resampler = std::make_unique<ResamplingPair> (hostRate, modelRate, inLanes, outLanes, cfg.maxBlock, modelSide);
        }
        catch (const std::invalid_argument& e)
        {
            throw ModelError (e.what());
        }
        totalLatency = resampler->latency();
        modelMaxBlock = resampler->maxModelBlock();
    }
    else
        totalLatency = modelSide;
    if (! mi.delayKnown)
        warn = "model delay unknown (" + mi.format + " export, no response to an impulse): latency counts it as 0";
    else if (mi.delayMeasured)
        warn = "model delay " + std::to_string (mi.delay) + " samples, measured with an impulse (" + mi.format
               + " export without nnplug metadata)";
    if (mi.sampleRate <= 0)
        warn += std::string (warn.empty() ? "" : "; ") + "model sample rate unknown: assumed equal to the host's";

    auto alloc = [&] (std::vector<std::vector<float>>& v, int count)
    {
        v.assign ((size_t) count, std::vector<float> ((size_t) cfg.maxBlock, 0.0f));
    };
    alloc (input, H);
    alloc (dry, H);
    alloc (wet, H);
    alloc (laneIn, inLanes);
    alloc (laneOut, outLanes);
    laneInPtr.resize ((size_t) inLanes);
    laneOutPtr.resize ((size_t) outLanes);
    for (int l = 0; l < inLanes; ++l) laneInPtr[(size_t) l] = laneIn[(size_t) l].data();
    for (int l = 0; l < outLanes; ++l) laneOutPtr[(size_t) l] = laneOut[(size_t) l].data();
    if (resample)
    {
        alloc (modelIn, inLanes);
        alloc (modelOut, outLanes);
        for (auto& v : modelIn) v.assign ((size_t) modelMaxBlock, 0.0f);
        for (auto& v : modelOut) v.assign ((size_t) modelMaxBlock, 0.0f);
        for (auto& v : modelIn) { modelInPtr.push_back (v.data()); modelInWrite.push_back (v.data()); }
        for (auto& v : modelOut) modelOutPtr.push_back (v.data());
    }
    delayLen = totalLatency + 1;
    delayLine.assign ((size_t) H, std::vector<float> ((size_t) delayLen, 0.0f));

    lastIn = controls.inputGain.load();
    lastOut = controls.outputGain.load();
    lastMix = controls.mix.load();
}

Engine::~Engine()
{
    reblocker.reset();   // joins the worker before the model goes away
}

void Engine::setError (const std::string& message) noexcept
{
    if (hasError.load (std::memory_order_acquire))
        return;
    const size_t len = std::min (message.size(), sizeof (errorText) - 1);
    std::memcpy (errorText, message.data(), len);
    errorText[len] = 0;
    hasError.store (true, std::memory_order_release);
}

bool Engine::processBuffer (const float* in, float* out) noexcept
{
    std::memcpy (model->input(), in, sizeof (float) * (size_t) inLanes * (size_t) n);
    if (! model->run())
    {
        setError (model->lastError());
        return false;
    }
    std::memcpy (out, model->output(), sizeof (float) * (size_t) outLanes * (size_t) n);
    return true;
}

bool Engine::resetStream() noexcept
{
    if (model->resetStream())
        return true;
    setError (model->lastError());
    return false;
}

namespace {

// Replaces NaN and Inf by 0; returns how many there were.
int64_t silenceNonFinite (float* x, int len)
{
    int64_t bad = 0;
    for (int i = 0; i < len; ++i)
        if (! std::isfinite (x[i]))
        {
            x[i] = 0.0f;
            ++bad;
        }
    return bad;
}

// Multiplies by a gain ramping from g0 to g1 over the block; exact copy at unity.
void applyGain (const float* src, float* dst, int len, float g0, float g1)
{
    if (g0 == 1.0f && g1 == 1.0f)
    {
        if (src != dst)
            std::memcpy (dst, src, sizeof (float) * (size_t) len);
        return;
    }
    if (g0 == g1)
    {
        for (int i = 0; i < len; ++i) dst[i] = src[i] * g0;
        return;
    }
    const float step = (g1 - g0) / (float) len;
    for (int i = 0; i < len; ++i) dst[i] = src[i] * (g0 + step * (float) (i + 1));
}

} // namespace

void Engine::process (float* const* io, int numSamples, bool offline) noexcept
{
    const int H = cfg.hostChannels;
    const auto& mi = model->info();

    if (restartRequested.exchange (false, std::memory_order_acq_rel))
    {
        reblocker->restart();
        if (resampler)
            resampler->reset();
        for (auto& d : delayLine) std::fill (d.begin(), d.end(), 0.0f);
        delayPos = 0;
        fresh = true;
    }

    for (int offset = 0; offset < numSamples; offset += cfg.maxBlock)
    {
        const int len = std::min (cfg.maxBlock, numSamples - offset);

        const bool bypassed = controls.bypass.load (std::memory_order_relaxed);
        const float gIn = bypassed ? 1.0f : controls.inputGain.load (std::memory_order_relaxed);
        if (fresh)
            lastIn = gIn;
        for (int ch = 0; ch < H; ++ch)
        {
            applyGain (io[ch] + offset, input[(size_t) ch].data(), len, lastIn, gIn);
            // A NaN or Inf from the host would enter the model's caches and poison every later
            // output (and fail the model for good); it would also reach the mix through the dry
            // path. Such samples become silence, for the model and the dry path alike.
            const int64_t bad = silenceNonFinite (input[(size_t) ch].data(), len);
            if (bad > 0)
                nonFiniteInput.fetch_add (bad, std::memory_order_relaxed);
        }
        lastIn = gIn;

        // Dry path, delayed by exactly the reported latency.
        for (int ch = 0; ch < H; ++ch)
        {
            float* line = delayLine[(size_t) ch].data();
            const float* x = input[(size_t) ch].data();
            float* y = dry[(size_t) ch].data();
            int w = delayPos;
            for (int i = 0; i < len; ++i)
            {
                line[w] = x[i];
                int r = w - totalLatency;
                if (r < 0) r += delayLen;
                y[i] = line[r];
                if (++w == delayLen) w = 0;
            }
        }
        delayPos = (delayPos + len) % delayLen;

        // Host channels -> model lanes.
        const int ci = mi.inChannels();
        if (batchSize > 1)
        {
            for (int b = 0; b < batchSize; ++b)
                std::memcpy (laneIn[(size_t) b].data(), input[(size_t) b].data(), sizeof (float) * (size_t) len);
        }
        else if (ci == 1 && H > 1)
        {
            float* d = laneIn[0].data();
            for (int i = 0; i < len; ++i)
            {
                float s = 0;
                for (int ch = 0; ch < H; ++ch) s += input[(size_t) ch][(size_t) i];
                d[i] = s / (float) H;
            }
        }
        else
        {
            for (int c = 0; c < ci; ++c)
                std::memcpy (laneIn[(size_t) c].data(), input[(size_t) (c % H)].data(), sizeof (float) * (size_t) len);
        }

        if (resampler)
        {
            auto& toModel = resampler->toModel();
            auto& toHost = resampler->toHost();
            toModel.push (laneInPtr.data(), len);
            const int m = std::min (toModel.available(), (int) modelIn[0].size());
            toModel.pull (modelInWrite.data(), m);
            reblocker->process (modelInPtr.data(), modelOutPtr.data(), m, offline);
            toHost.push (modelOutPtr.data(), m);
            toHost.pull (laneOutPtr.data(), len);
        }
        else
            reblocker->process (laneInPtr.data(), laneOutPtr.data(), len, offline);

        // Model lanes -> host channels.
        const int co = mi.outChannels();
        for (int ch = 0; ch < H; ++ch)
        {
            float* w = wet[(size_t) ch].data();
            if (batchSize > 1)
                std::memcpy (w, laneOut[(size_t) (ch * co)].data(), sizeof (float) * (size_t) len);
            else if (co >= H && ! (co > H && H == 1))
                std::memcpy (w, laneOut[(size_t) ch].data(), sizeof (float) * (size_t) len);
            else if (co == 1)
                std::memcpy (w, laneOut[0].data(), sizeof (float) * (size_t) len);
            else
            {
                for (int i = 0; i < len; ++i)
                {
                    float s = 0;
                    for (int c = 0; c < co; ++c) s += laneOut[(size_t) c][(size_t) i];
                    w[i] = s / (float) co;
                }
            }
        }

        const float mix = controls.mix.load (std::memory_order_relaxed);
        const float gOut = bypassed ? 1.0f : controls.outputGain.load (std::memory_order_relaxed);
        if (fresh)
        {
            lastMix = mix;
            lastOut = gOut;
            fresh = false;
        }
        const bool broken = failed() || bypassed;
        const bool silence = ! bypassed && controls.failure.load (std::memory_order_relaxed) == (int) FailureMode::Silence;
        for (int ch = 0; ch < H; ++ch)
        {
            float* out = io[ch] + offset;
            const float* w = wet[(size_t) ch].data();
            const float* d = dry[(size_t) ch].data();
            if (broken)
            {
                if (silence) std::fill (out, out + len, 0.0f);
                else std::memcpy (out, d, sizeof (float) * (size_t) len);
            }
            else if (lastMix == 1.0f && mix == 1.0f)
                std::memcpy (out, w, sizeof (float) * (size_t) len);
            else
            {
                const float step = (mix - lastMix) / (float) len;
                for (int i = 0; i < len; ++i)
                {
                    const float m = lastMix + step * (float) (i + 1);
                    out[i] = w[i] * m + d[i] * (1.0f - m);
                }
            }
            applyGain (out, out, len, lastOut, gOut);
        }
        lastMix = mix;
        lastOut = gOut;
    }
}

} // namespace nnplug
