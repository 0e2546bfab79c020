// Runs a TorchScript audio model one buffer at a time: the only part of the engine that calls
// libtorch. The file is read by readModelFile (ModelFile.h); the shape contract is checked
// once, at prepare(); run() then only checks that the model still keeps it.
//
// A real reset for every file: many files keep their stream state in module buffers and have
// no reset() (RAVE and nn~ exports: cached_conv's `pad` caches). The buffers are copied at load
// (a Neutone file: once told the host's rate and buffer, at prepare()); resetStream() puts them
// back, then calls the file's own reset() if it has one. python/nnplug/player.py does the same.
#pragma once

#include "LatentControls.h"
#include "ModelInfo.h"

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <string>

namespace nnplug {

struct LoadedModule;   // ModelFile.h (kept out of this header: it needs torch's)
struct ModelFile;

// The seed of every measurement and trial (python/nnplug/player.py's MEASURE_SEED).
constexpr unsigned long long kMeasureSeed = 0x6e6e706c;

class ModelRunner
{
public:
    // The "Model control k" values (0..1 each; ModelInfo::controls says what they mean).
    using ControlValues = std::array<std::atomic<float>, kMaxModelControls>;

    // Loads and reads the file, playing the chosen path; throws ModelError with a one-line reason.
    explicit ModelRunner (const std::string& path, MethodChoice method = MethodChoice::Auto);
    // The same from a file already read (ModelFile.h): plays a deep copy of `loaded`, so that
    // engines for another buffer size, mode or method need no disk access.
    explicit ModelRunner (const LoadedModule& loaded, MethodChoice method = MethodChoice::Auto);
    // Reads a file for the constructor above (torch::jit::load, nothing run); throws ModelError
    // when it is missing or not TorchScript. The result is never modified and can be shared.
    static std::shared_ptr<const LoadedModule> read (const std::string& path);
    ~ModelRunner();
    ModelRunner (const ModelRunner&) = delete;
    ModelRunner& operator= (const ModelRunner&) = delete;

    // What the file says (ModelFile.h).
    const ModelInfo& info() const { return modelInfo; }

    // Sets the shape of every later run(): `batch` streams of `bufferSize` samples at the host's
    // rate (a Neutone file is told it and its buffer, and its delay is asked of it then; 0: the
    // model's own rate). Runs silent trial buffers, which check the shape contract and time the
    // model, then resets the stream; the trials draw no numbers from torch's default generator
    // (they run under FixedRandomness). Slow: call it off the audio thread. Throws ModelError.
    void prepare (int batch, int bufferSize, double hostRate = 0);

    int batch() const { return batchSize; }
    int bufferSize() const { return n; }
    int inLanes() const { return batchSize * modelInfo.inChannels(); }
    int outLanes() const { return batchSize * modelInfo.outChannels(); }

    // One streaming step: in [batch][inChannels][bufferSize] -> out [batch][outChannels][bufferSize],
    // both contiguous. Never throws: on an exception, a wrong shape or a non-finite or absurd
    // sample it returns false and lastError() says why (out is then unspecified).
    bool run (const float* in, float* out) noexcept;

    // Back to the stream's start: the buffers as remembered, then the file's own reset().
    bool resetStream() noexcept;

    // The played path's delay, when the file does not state it, as measured (DelayProbe.h) or
    // remembered from an earlier measurement of the same file; nullopt: no response to an impulse.
    void setMeasuredDelay (std::optional<int> delay);

    const std::string& lastError() const { return error; }

    // Wall time of the trial buffers at prepare(), seconds (the fastest of them).
    double trialSeconds() const { return trialTime; }

    // Read by run() on the inference thread (encode>decode models only); may be null.
    void setLatentControls (const LatentControls* c) { latent = c; }
    // Written by run() on the inference thread (encode>decode models only); may be null.
    void setLatentMonitor (LatentMonitor* m) { monitor = m; }
    // Read by run() on the inference thread; may be null (the model keeps its defaults).
    void setModelControls (const ControlValues* c) { modelControls = c; }

    // While one exists, torch's default random generator is seeded with `seed` at each
    // reseed(); its earlier state comes back at destruction. A stochastic model then repeats
    // its random draws from one run to the next.
    class FixedRandomness
    {
    public:
        explicit FixedRandomness (unsigned long long seed);
        ~FixedRandomness();
        void reseed();
    private:
        struct Saved;
        std::unique_ptr<Saved> saved;
        unsigned long long seed;
    };

private:
    struct Impl;
    std::unique_ptr<Impl> impl;
    ModelInfo modelInfo;
    int batchSize = 0, n = 0;
    std::string error;
    double trialTime = 0;
    const LatentControls* latent = nullptr;
    LatentMonitor* monitor = nullptr;
    const ControlValues* modelControls = nullptr;

    void adopt (ModelFile&& file);
    void snapshot();
    void applyModelControls();
    void prepareNeutone (double hostRate);
};

// Applies one intra-op thread to the calling thread the first time it runs inference:
// the reference run in Python uses one thread, and a host shares libtorch with us.
void useSingleInferenceThread();

} // namespace nnplug
