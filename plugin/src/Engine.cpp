#include "Engine.h"
#include "DelayProbe.h"

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

void Engine::Buffers::allocate (int channels, int length)
{
    data.assign ((size_t) channels, std::vector<float> ((size_t) length, 0.0f));
    ptr.clear();
    for (auto& v : data) ptr.push_back (v.data());
}

namespace {

const ModelInfo& factsOf (const std::unique_ptr<ModelRunner>& m)
{
    if (! m)
        throw ModelError ("no model");
    return m->info();
}

EngineConfig normalised (EngineConfig c)
{
    c.hostChannels = std::max (1, c.hostChannels);
    c.maxBlock = std::max (1, c.maxBlock);
    return c;
}

// What the user should know about the model's facts; empty when nothing.
std::string warningFor (const ModelInfo& facts)
{
    std::string warn;
    auto add = [&warn] (const std::string& w) { warn += (warn.empty() ? "" : "; ") + w; };
    if (! facts.streaming)
        add ("not a streaming model (" + facts.streamingEvidence + "): each buffer is processed alone and clicks at "
             "buffer edges; convert it with nnplug.streaming.convert or export it with streaming on");
    if (facts.neutone)
        return warn;
    if (! facts.delayKnown)
        add ("model delay unknown (" + facts.format + " export, no response to an impulse): latency counts it as 0");
    else if (facts.delayMeasured)
        add ("model delay " + std::to_string (facts.delay) + " samples, measured with an impulse (" + facts.format
             + " export without nnplug metadata)");
    if (facts.sampleRate <= 0)
        add ("model sample rate unknown: assumed equal to the host's");
    return warn;
}

} // namespace

Engine::Engine (std::unique_ptr<ModelRunner> m, const EngineConfig& config, const Controls& c)
    : model (std::move (m)), facts (factsOf (model)), cfg (normalised (config)), controls (c),
      // A Neutone wrapper holds one stream: a mono one on a stereo host plays the downmix.
      lanes (cfg.hostChannels, facts.inChannels(), facts.outChannels(),
             facts.neutone ? ChannelMode::Downmix : cfg.channelMode),
      n (chooseBufferSize (cfg.bufferSize, facts.ratio))
{
    prepareModel();
    buildPipeline();
    warn = warningFor (facts);
    allocateBuffers();
    lastIn = controls.inputGain.load();
    lastOut = controls.outputGain.load();
    lastMix = controls.mix.load();
}

void Engine::prepareModel()
{
    // A delay the file does not state is measured once per file (the loader remembers it by the
    // file's sha256 and passes it in with setMeasuredDelay).
    if (! facts.delayKnown && ! facts.delayMeasured && ! facts.neutone)
        model->setMeasuredDelay (measureDelay (*model));
    model->prepare (lanes.batch(), n, cfg.hostRate);   // throws ModelError with the reason
    facts = model->info();   // with the delay measured, or asked of a Neutone file at this rate and N
    facts.delay = std::max (0, facts.delay);
    // Warm-up (see kWarmupBuffers): every method the audio thread calls, reset() included,
    // runs once now. prepare() left the stream fresh.
    // Best effort: a model that fails here passed prepare(), so it fails on the audio thread
    // as any mid-stream failure does (contained: dry or silence), not at load.
    const std::vector<float> silence ((size_t) model->inLanes() * (size_t) n, 0.0f);
    std::vector<float> out ((size_t) model->outLanes() * (size_t) n, 0.0f);
    {
        ModelRunner::FixedRandomness untouchedGenerator (kMeasureSeed);   // warm-up draws nothing
        untouchedGenerator.reseed();
        for (int i = 0; i < kWarmupBuffers; ++i)
            if (! model->run (silence.data(), out.data()) || ! model->resetStream())
                break;
    }
    model->setLatentControls (&controls.latent);
    model->setModelControls (&controls.model);
}

// The re-blocker, and the resampler pair when the rates differ; sets totalLatency.
void Engine::buildPipeline()
{
    // A model at another rate than the host's runs behind a resampler pair; at equal rates
    // (or when the model does not say its rate) nothing is resampled, not even by a no-op.
    const int hostRate = (int) std::lround (cfg.hostRate);
    const int modelRate = (int) std::lround (facts.sampleRate);
    const bool resample = modelRate > 0 && hostRate > 0 && modelRate != hostRate;
    int modelMaxBlock = cfg.maxBlock;
    if (resample)
        modelMaxBlock = Resampler (hostRate, modelRate, 1, cfg.maxBlock, 0).maxOutputsPerPush (cfg.maxBlock);

    ReblockerConfig rc;
    rc.inLanes = lanes.inLanes();
    rc.outLanes = lanes.outLanes();
    rc.bufferSize = n;
    rc.maxBlock = modelMaxBlock;
    // Resampled blocks vary in size by a sample: only the any-sequence latency holds.
    rc.hostBlock = resample ? 0 : cfg.hostBlock;
    rc.mode = cfg.mode;
    reblocker = std::make_unique<Reblocker> (rc, static_cast<BufferProcessor&> (*this));

    const int modelSide = reblocker->latency() + (facts.delayKnown ? facts.delay : 0);   // model samples
    totalLatency = modelSide;
    if (! resample)
        return;
    try
    {
        resampler = std::make_unique<ResamplingPair> (hostRate, modelRate, lanes.inLanes(), lanes.outLanes(),
                                                      cfg.maxBlock, modelSide);
    }
    catch (const std::invalid_argument& e)
    {
        throw ModelError (e.what());
    }
    totalLatency = resampler->latency();
    modelIn.allocate (lanes.inLanes(), resampler->maxModelBlock());
    modelOut.allocate (lanes.outLanes(), resampler->maxModelBlock());
    modelInRead.assign (modelIn.ptr.begin(), modelIn.ptr.end());
}

void Engine::allocateBuffers()
{
    const int H = cfg.hostChannels;
    input.allocate (H, cfg.maxBlock);
    dry.allocate (H, cfg.maxBlock);
    laneMeans.allocate (lanes.inLanes(), cfg.maxBlock);
    laneOut.allocate (lanes.outLanes(), cfg.maxBlock);
    wetMeans.allocate (H, cfg.maxBlock);
    laneIn.resize ((size_t) lanes.inLanes());
    wet.resize ((size_t) H);
    delayLen = totalLatency + 1;
    delayLine.assign ((size_t) H, std::vector<float> ((size_t) delayLen, 0.0f));
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
    if (model->run (in, out))
        return true;
    setError (model->lastError());
    return false;
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
    if (restartRequested.exchange (false, std::memory_order_acq_rel))
        startNewStream();

    for (int offset = 0; offset < numSamples; offset += cfg.maxBlock)
    {
        const int len = std::min (cfg.maxBlock, numSamples - offset);
        const auto c = readControls();
        if (fresh)
        {
            lastIn = c.inputGain;
            lastOut = c.outputGain;
            lastMix = c.mix;
            fresh = false;
        }
        conditionInput (io, offset, len, c);
        delayDry (len);
        runModel (len, offline);
        mixOutput (io, offset, len, c);
    }
}

void Engine::startNewStream() noexcept
{
    reblocker->restart();
    if (resampler)
        resampler->reset();
    for (auto& d : delayLine) std::fill (d.begin(), d.end(), 0.0f);
    delayPos = 0;
    fresh = true;
}

Engine::BlockControls Engine::readControls() const noexcept
{
    BlockControls c;
    c.bypassed = controls.bypass.load (std::memory_order_relaxed);
    c.inputGain = c.bypassed ? 1.0f : controls.inputGain.load (std::memory_order_relaxed);
    c.outputGain = c.bypassed ? 1.0f : controls.outputGain.load (std::memory_order_relaxed);
    c.mix = controls.mix.load (std::memory_order_relaxed);
    c.silenceOnFailure = ! c.bypassed && controls.failure.load (std::memory_order_relaxed) == (int) FailureMode::Silence;
    return c;
}

// Host channels -> input[], at the input gain.
void Engine::conditionInput (const float* const* io, int offset, int len, const BlockControls& c) noexcept
{
    for (int ch = 0; ch < cfg.hostChannels; ++ch)
    {
        float* x = input.ptr[(size_t) ch];
        applyGain (io[ch] + offset, x, len, lastIn, c.inputGain);
        // A NaN or Inf from the host would enter the model's caches and poison every later
        // output (and fail the model for good); it would also reach the mix through the dry
        // path. Such samples become silence, for the model and the dry path alike.
        if (const int64_t bad = silenceNonFinite (x, len); bad > 0)
            nonFiniteInput.fetch_add (bad, std::memory_order_relaxed);
    }
    lastIn = c.inputGain;
}

// input[] -> dry[], delayed by exactly the reported latency.
void Engine::delayDry (int len) noexcept
{
    for (int ch = 0; ch < cfg.hostChannels; ++ch)
    {
        float* line = delayLine[(size_t) ch].data();
        const float* x = input.ptr[(size_t) ch];
        float* y = dry.ptr[(size_t) ch];
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
}

// input[] -> model lanes -> (resampler) -> re-blocked model -> output lanes -> wet[].
void Engine::runModel (int len, bool offline) noexcept
{
    lanes.toLanes (input.ptr.data(), len, laneIn.data(), laneMeans.ptr.data());
    if (resampler)
    {
        auto& toModel = resampler->toModel();
        auto& toHost = resampler->toHost();
        toModel.push (laneIn.data(), len);
        const int m = std::min (toModel.available(), (int) modelIn.data[0].size());
        toModel.pull (modelIn.ptr.data(), m);
        reblocker->process (modelInRead.data(), modelOut.ptr.data(), m, offline);
        toHost.push (modelOut.ptr.data(), m);
        toHost.pull (laneOut.ptr.data(), len);
    }
    else
        reblocker->process (laneIn.data(), laneOut.ptr.data(), len, offline);
    lanes.toHost (laneOut.ptr.data(), len, wet.data(), wetMeans.ptr.data());
}

// wet[] and dry[] -> host channels: the mix (or, failed or bypassed, dry or silence), then
// the output gain.
void Engine::mixOutput (float* const* io, int offset, int len, const BlockControls& c) noexcept
{
    const bool broken = failed() || c.bypassed;
    for (int ch = 0; ch < cfg.hostChannels; ++ch)
    {
        float* out = io[ch] + offset;
        const float* w = wet[(size_t) ch];
        const float* d = dry.ptr[(size_t) ch];
        if (broken)
        {
            if (c.silenceOnFailure) std::fill (out, out + len, 0.0f);
            else std::memcpy (out, d, sizeof (float) * (size_t) len);
        }
        else if (lastMix == 1.0f && c.mix == 1.0f)
            std::memcpy (out, w, sizeof (float) * (size_t) len);
        else
        {
            const float step = (c.mix - lastMix) / (float) len;
            for (int i = 0; i < len; ++i)
            {
                const float m = lastMix + step * (float) (i + 1);
                out[i] = w[i] * m + d[i] * (1.0f - m);
            }
        }
        applyGain (out, out, len, lastOut, c.outputGain);
    }
    lastMix = c.mix;
    lastOut = c.outputGain;
}

} // namespace nnplug
