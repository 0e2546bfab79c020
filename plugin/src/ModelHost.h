// Loads a TorchScript audio model and runs it one buffer at a time.
//
// Reads, in this order of trust: nnplug metadata (extra file nnplug.json or the
// `nnplug_metadata` attribute), the nn~ convention (`<method>_params` buffers and
// `get_methods()`), and RAVE v2 (`sr`, `latent_size`, ...) / v1 (`sampling_rate`, `_rave`)
// attributes. The shape contract is checked once, at prepare(); run() then only checks that
// the model still keeps it.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace nnplug {

struct ModelError : std::runtime_error { using std::runtime_error::runtime_error; };

// What a model must keep to be played (python/nnplug/inspect.py checks the same limits).
constexpr double kMinSampleRate = 1000, kMaxSampleRate = 768000;   // a stated rate outside: refused
constexpr float kMaxAbsOutput = 1000.0f;     // an output sample beyond +60 dBFS: a broken model
constexpr double kMaxRealtimeFactor = 10.0;  // a trial buffer slower than 10x real time, twice: refused
constexpr int kMaxRatio = 1 << 16, kMaxChannels = 64, kMaxDelay = 1 << 22;
constexpr int kMaxLatentChannels = 4096;   // encode's output, decode's input

// One exported method, nn~ convention: (batch, inChannels, B / inRatio) -> (batch, outChannels, B / outRatio).
struct MethodSpec
{
    bool present = false;
    int inChannels = 0, inRatio = 1, outChannels = 0, outRatio = 1;
    int delay = -1;   // samples, from our metadata; -1 when unknown
};

struct ModelInfo
{
    std::string path;
    std::string format;          // "nnplug", "rave-v2", "rave-v1" or "nn~"
    std::string name, author, description, version;
    double sampleRate = 0;       // 0 when the model does not say
    bool sampleRateStated = false;   // an attribute or the metadata gives one (maybe an absurd one)
    bool streaming = true;       // false only when our metadata says so (the plugin refuses it)
    int ratio = 1;               // every buffer must be a multiple of it
    int delay = 0;               // output delay in samples of the audio path used
    bool delayKnown = false;     // from our metadata, or measured at prepare() (RAVE and other exports)
    bool delayMeasured = false;  // measured with an impulse at prepare(), not read from metadata
    bool hasReset = false;
    bool deterministic = true;
    bool latentPath = false;     // encode -> latent controls -> decode instead of forward
    int latentSize = 0;
    MethodSpec forward, encode, decode;
    std::vector<std::string> methods;
    std::string metadataJson;

    int inChannels() const { return latentPath ? encode.inChannels : forward.inChannels; }
    int outChannels() const { return latentPath ? decode.outChannels : forward.outChannels; }
    std::string pathDescription() const { return latentPath ? "encode>decode" : "forward"; }
};

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

    void readConvention();
    void measureDelay();
    void readMetadata (const std::string& json);
};

// Applies one intra-op thread to the calling thread the first time it runs inference:
// the reference run in Python uses one thread, and a host shares libtorch with us.
void useSingleInferenceThread();

} // namespace nnplug
