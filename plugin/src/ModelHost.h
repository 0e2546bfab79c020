// Runs a TorchScript audio model one buffer at a time. The file is read by readModelFile
// (ModelFile.h); the shape contract is checked once, at prepare(); run() then only checks that
// the model still keeps it.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ModelInfo.h"

namespace nnplug {

// Number of latent dimensions that get a scale and a bias control.
constexpr int kLatentControls = 8;

struct LatentControls
{
    std::array<std::atomic<float>, kLatentControls> scale, bias;
    LatentControls() { for (auto& s : scale) s = 1.0f; for (auto& b : bias) b = 0.0f; }
};

class ModelHost
{
public:
    // Loads and inspects the file; throws ModelError with a one-line reason.
    explicit ModelHost (const std::string& path);
    ~ModelHost();

    const ModelInfo& info() const { return modelInfo; }

    // Allocates the input/output buffers for `batch` streams of `bufferSize` samples, runs one
    // silent buffer to check the shape contract, then resets the stream. A model without our
    // metadata gets its delay measured here with an impulse (see measureDelay). Slow: call it
    // off the audio thread. Throws ModelError.
    void prepare (int batch, int bufferSize);

    int batch() const { return batchSize; }
    int bufferSize() const { return n; }

    // The buffers run() reads and writes: [batch][channel][bufferSize], contiguous.
    float* input() { return inBuf.data(); }
    const float* output() const { return outBuf.data(); }

    // One streaming step on input() -> output(). Never throws: on an exception, a wrong shape
    // or a non-finite sample it returns false and lastError() says why.
    bool run() noexcept;

    // Wall time of the trial buffers at prepare(), seconds (the faster of the two when the
    // first was over the limit).
    double trialSeconds() const { return trialTime; }

    // Clears the model's streaming state (exported reset(); a no-op for models without one).
    bool resetStream() noexcept;

    const std::string& lastError() const { return error; }

    // Read by run() on the inference thread, written by the UI/automation.
    void setLatentControls (const LatentControls* c) { latent = c; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl;
    ModelInfo modelInfo;
    int batchSize = 0, n = 0;
    std::vector<float> inBuf, outBuf;
    std::string error;
    double trialTime = 0;
    const LatentControls* latent = nullptr;

    void measureDelay();
};

// Applies one intra-op thread to the calling thread the first time it runs inference:
// the reference run in Python uses one thread, and a host shares libtorch with us.
void useSingleInferenceThread();

} // namespace nnplug
