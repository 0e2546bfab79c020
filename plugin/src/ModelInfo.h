// What a model file says: the facts the plugin reads from it and the limits it holds it to.
// Read by readModelFile (ModelFile.h); python/nnplug/contract.py is the Python reader with the
// same rules, and tests/contract_cases/*.json are checked against both.
#pragma once

#include <algorithm>
#include <cmath>
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

// A value of the model's own that the plugin exposes as "Model control k" (k = its index):
// an nn~ attribute with a setter, or a Neutone knob. The plugin parameter is 0..1 and its
// default, 0.5, is the model's default: 0..0.5 spans lo..default and 0.5..1 default..hi (so the
// plugin never has to move a parameter itself when another model loads); an int is rounded half
// up, a bool is on from 0.5 of its range. python/nnplug/contract.py's control_value is the same.
struct ControlSpec
{
    std::string name, kind, type, description;   // kind "attribute" | "knob"; type "float" | "int" | "bool"
    double defaultValue = 0, lo = 0, hi = 1;
    int slot = -1;                                // a knob's row in Neutone's [4, N] tensor

    static constexpr float kDefaultParameter = 0.5f;

    // NaN: the model's default.
    double valueAt (float parameter) const
    {
        if (std::isnan (parameter) || parameter == kDefaultParameter)
            return typed (defaultValue);
        const double p = parameter < 0.0f ? 0.0 : parameter > 1.0f ? 1.0 : (double) parameter;
        return typed (p < 0.5 ? lo + (defaultValue - lo) * (p / 0.5) : defaultValue + (hi - defaultValue) * ((p - 0.5) / 0.5));
    }
    double typed (double v) const
    {
        if (type == "bool")
            return v >= 0.5 ? 1.0 : 0.0;
        if (type == "int")
            return std::floor (v + 0.5);
        return v;
    }
};

constexpr int kMaxModelControls = 8;   // the plugin's "Model control 1..8" parameters
constexpr int kNeutoneKnobs = 4;       // rows of the knob tensor a Neutone wrapper takes

// The "Model method" parameter: which path plays.
enum class MethodChoice { Auto = 0, Forward = 1, EncodeDecode = 2 };

struct ModelInfo
{
    std::string path;
    std::string format;          // "nnplug", "rave-v2", "rave-v1", "nn~" or "neutone"
    std::string name, author, description, version;
    double sampleRate = 0;       // 0 when the model does not say
    bool sampleRateStated = false;   // an attribute or the metadata gives one (maybe an absurd one)
    bool streaming = true;       // false: each buffer is processed alone (played, with a warning)
    std::string streamingEvidence;   // what decided `streaming`; empty when the file does not show it
    int ratio = 1;               // every buffer must be a multiple of it
    int delay = 0;               // output delay in samples of the audio path used
    bool delayKnown = false;     // from our metadata, or measured at prepare() (RAVE and other exports)
    bool delayMeasured = false;  // measured with an impulse at prepare(), not read from metadata
    bool hasReset = false;
    bool deterministic = true;
    bool latentPath = false;     // encode -> latent controls -> decode instead of forward
    bool latentPathFits = false; // the file has an encode/decode pair that fits (Auto plays it)
    // Neutone files: the wrapper resamples and re-blocks itself (played at the host's rate), and
    // holds one stream (a mono model on a stereo host plays the downmix).
    bool neutone = false;
    int latentSize = 0;
    MethodSpec forward, encode, decode;
    std::vector<std::string> methods;
    std::vector<ControlSpec> controls;   // at most kMaxModelControls, in file order
    std::string metadataJson;

    int inChannels() const { return latentPath ? encode.inChannels : forward.inChannels; }
    int outChannels() const { return latentPath ? decode.outChannels : forward.outChannels; }
    std::string pathDescription() const { return latentPath ? "encode>decode" : "forward"; }
    // The played path as the Python contract names it (the delay cache's key).
    std::string playedName() const { return latentPath ? "encode -> decode" : "forward"; }
};

// The model buffer N for the plugin's "Auto" choice: kAutoBufferSize rounded up to the ratio.
constexpr int kAutoBufferSize = 1024;
inline int autoBufferSize (int ratio) { return ratio < 1 ? kAutoBufferSize : (kAutoBufferSize + ratio - 1) / ratio * ratio; }

} // namespace nnplug
