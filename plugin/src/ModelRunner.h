// Runs a TorchScript audio model one buffer at a time: the only part of the engine that calls
// libtorch. The file is read by readModelFile (ModelFile.h); the shape contract is checked
// once, at prepare(); run() then only checks that the model still keeps it.
#pragma once

#include "LatentControls.h"
#include "ModelInfo.h"

#include <memory>
#include <string>

namespace nnplug {

class ModelRunner
{
public:
    // Loads and reads the file; throws ModelError with a one-line reason.
    explicit ModelRunner (const std::string& path);
    ~ModelRunner();
    ModelRunner (const ModelRunner&) = delete;
    ModelRunner& operator= (const ModelRunner&) = delete;

    // What the file says (ModelFile.h).
    const ModelInfo& info() const { return modelInfo; }

    // Sets the shape of every later run(): `batch` streams of `bufferSize` samples. Runs silent
    // trial buffers, which check the shape contract and time the model, then resets the
    // stream. Slow: call it off the audio thread. Throws ModelError.
    void prepare (int batch, int bufferSize);

    int batch() const { return batchSize; }
    int bufferSize() const { return n; }
    int inLanes() const { return batchSize * modelInfo.inChannels(); }
    int outLanes() const { return batchSize * modelInfo.outChannels(); }

    // One streaming step: in [batch][inChannels][bufferSize] -> out [batch][outChannels][bufferSize],
    // both contiguous. Never throws: on an exception, a wrong shape or a non-finite or absurd
    // sample it returns false and lastError() says why (out is then unspecified).
    bool run (const float* in, float* out) noexcept;

    // Clears the model's streaming state (exported reset(); a no-op for models without one).
    bool resetStream() noexcept;

    const std::string& lastError() const { return error; }

    // Wall time of the trial buffers at prepare(), seconds (the fastest of them).
    double trialSeconds() const { return trialTime; }

    // Read by run() on the inference thread (encode>decode models only); may be null.
    void setLatentControls (const LatentControls* c) { latent = c; }

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
};

// Applies one intra-op thread to the calling thread the first time it runs inference:
// the reference run in Python uses one thread, and a host shares libtorch with us.
void useSingleInferenceThread();

} // namespace nnplug
