// What a model file says: the facts the plugin reads from it and the limits it holds it to.
// Read by readModelFile (ModelFile.h); python/nnplug/contract.py is the Python reader with the
// same rules, and tests/contract_cases/*.json are checked against both.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace nnplug {

struct ModelError : std::runtime_error { using std::runtime_error::runtime_error; };

// What a model must keep to be played (python/nnplug/contract.py holds the same limits).
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

// The model buffer N for the plugin's "Auto" choice: kAutoBufferSize rounded up to the ratio.
constexpr int kAutoBufferSize = 1024;
inline int autoBufferSize (int ratio) { return ratio < 1 ? kAutoBufferSize : (kAutoBufferSize + ratio - 1) / ratio * ratio; }

} // namespace nnplug
