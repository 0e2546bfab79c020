// One loaded model, prepared for one host configuration: gains, the dry path delayed by exactly
// the reported latency, host channels onto model lanes (LaneMap.h), re-blocking, resampling,
// dry/wet mix, and contained failure.
//
// At unity (gains 0 dB, mix 100 %) the model sees exactly the host's samples and its output
// is copied out untouched, so a render can be compared bit for bit with the same model run
// in Python on buffers of bufferSize().
#pragma once

#include "LaneMap.h"
#include "LatentControls.h"
#include "ModelRunner.h"
#include "Reblocker.h"
#include "Resampler.h"

#include <atomic>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace nnplug {

enum class FailureMode { PassDry = 0, Silence = 1 };

struct EngineConfig
{
    double hostRate = 44100;
    int maxBlock = 512;
    int hostBlock = 0;            // fixed host block size if known (lower latency); 0 = any
    int hostChannels = 2;
    int bufferSize = 0;           // requested N; rounded up to the model's ratio; 0 = default
    InferenceMode mode = InferenceMode::Synchronous;
    ChannelMode channelMode = ChannelMode::PerChannel;
    MethodChoice method = MethodChoice::Auto;   // the path the loader asks the file for (ModelRunner)
};

// Values the host may automate; read once per block (relaxed atomics, written anywhere).
struct Controls
{
    std::atomic<float> inputGain { 1.0f };   // linear
    std::atomic<float> outputGain { 1.0f };  // linear
    std::atomic<float> mix { 1.0f };         // 0 = dry, 1 = wet
    std::atomic<int> failure { (int) FailureMode::PassDry };
    // Host bypass: the model keeps running (its stream stays continuous) and the output is the
    // input at unity gain, delayed by the reported latency like the dry path.
    std::atomic<bool> bypass { false };
    LatentControls latent;
    // Not a control: the latents the playing model's decode received, for display (the model
    // loader hands it to each runner it builds; LatentControls.h).
    LatentMonitor latentView;
    // "Model control k", 0..1 (ModelInfo::controls says what each is); NaN: the model's default.
    ModelRunner::ControlValues model;

    Controls()
    {
        for (auto& v : model)
            v.store (std::numeric_limits<float>::quiet_NaN());
    }
};

// The model buffer N actually used: the request (or 1024 by default) rounded up to a
// multiple of the model's ratio.
int chooseBufferSize (int requested, int ratio);

// Silent buffers run (then reset) when an engine is built, off the audio thread: a method's
// first call builds its interpreter code and the allocator's pools (ModelCall.h keeps
// TorchScript's optimizer, which made the first two calls ~50x slower, out of it). Without
// this the first buffers of audio would pay for it on the audio thread. Warm-up does not
// change the output: the state is reset, and the same graph runs on every call
// (`nnplug bench plugin` and tests/python/test_validate.py check bit-identity).
// (tests/fixtures' throws.ts fails from its 4th call on: its failure must come mid-stream.)
constexpr int kWarmupBuffers = 2;

class Engine : private BufferProcessor
{
public:
    // Takes ownership of a loaded model and prepares it; throws ModelError.
    Engine (std::unique_ptr<ModelRunner> model, const EngineConfig& config, const Controls& controls);
    ~Engine() override;

    // The model file's facts, with its delay once measured (exports without our metadata).
    const ModelInfo& info() const { return facts; }
    const EngineConfig& config() const { return cfg; }
    int bufferSize() const { return n; }
    int batch() const { return lanes.batch(); }
    int latency() const { return totalLatency; }        // host samples, exactly
    int bufferingLatency() const { return reblocker->latency(); }   // model samples
    bool resampling() const { return resampler != nullptr; }
    int resamplerUnderruns() const { return resampler ? (int) resampler->toHost().underruns() : 0; }
    int modelDelay() const { return facts.delay; }
    double trialSeconds() const { return model->trialSeconds(); }
    std::string warning() const { return warn; }

    // In place on hostChannels channels of n samples. Never throws, never blocks in real time.
    void process (float* const* io, int numSamples, bool offline) noexcept;

    // The next process() starts a new stream (after a transport jump or a host reset()).
    void requestRestart() noexcept { restartRequested.store (true, std::memory_order_release); }

    // Off the audio thread: returns once the worker (if any) computes nothing, so that no model
    // call of the last stream runs after this (a host's reset() is a sync point: a stochastic
    // model's draws from torch's generator then start with the next stream).
    void waitForInference() const noexcept { reblocker->waitUntilIdle(); }

    bool failed() const { return hasError.load (std::memory_order_acquire) || reblocker->failed(); }
    const char* error() const { return failed() ? errorText : ""; }
    int64_t underrunSamples() const { return reblocker->underrunSamples(); }
    // Host input samples that were NaN or Inf, replaced by silence (see process()).
    int64_t nonFiniteInputSamples() const { return nonFiniteInput.load (std::memory_order_relaxed); }

private:
    // The controls for one block, read once.
    struct BlockControls
    {
        bool bypassed = false, silenceOnFailure = false;
        float inputGain = 1, outputGain = 1, mix = 1;
    };
    // [channel][maxBlock] buffers and their pointers.
    struct Buffers
    {
        std::vector<std::vector<float>> data;
        std::vector<float*> ptr;
        void allocate (int channels, int length);
    };

    std::unique_ptr<ModelRunner> model;
    ModelInfo facts;
    EngineConfig cfg;
    const Controls& controls;
    LaneMap lanes;
    int n = 0;   // the model buffer size
    int totalLatency = 0;
    std::string warn;
    std::unique_ptr<Reblocker> reblocker;
    std::unique_ptr<ResamplingPair> resampler;   // null at equal rates: bypassed entirely

    Buffers input, dry;                   // host channels, after the input gain / delayed
    Buffers laneMeans, laneOut, wetMeans; // mixed input lanes, output lanes, mixed host channels
    Buffers modelIn, modelOut;            // model-rate lanes when resampling
    std::vector<const float*> laneIn, wet, modelInRead;
    std::vector<std::vector<float>> delayLine;   // dry delay line, [channel][delayLen]
    int delayLen = 0, delayPos = 0;

    float lastIn = 1.0f, lastOut = 1.0f, lastMix = 1.0f;
    // Audio thread: no block of the current stream processed yet (a new engine, or a restart).
    // A fresh stream has no earlier output to stay continuous with, so the gain and mix
    // ramps start from the current values: whatever was set before the stream started (a
    // restored state, parameters set before playback) applies from the first sample.
    bool fresh = true;
    std::atomic<bool> restartRequested { false };
    std::atomic<bool> hasError { false };
    std::atomic<int64_t> nonFiniteInput { 0 };
    char errorText[512] = {};

    // construction, step by step
    void prepareModel();
    void buildPipeline();
    void allocateBuffers();

    // process(), stage by stage, on blocks of at most maxBlock samples
    void startNewStream() noexcept;
    BlockControls readControls() const noexcept;
    void conditionInput (const float* const* io, int offset, int len, const BlockControls& c) noexcept;
    void delayDry (int len) noexcept;
    void runModel (int len, bool offline) noexcept;
    void mixOutput (float* const* io, int offset, int len, const BlockControls& c) noexcept;

    bool processBuffer (const float* in, float* out) noexcept override;
    bool resetStream() noexcept override;
    void setError (const std::string& message) noexcept;
};

} // namespace nnplug
