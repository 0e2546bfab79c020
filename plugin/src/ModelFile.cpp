// The C++ reader of a model file: the nn~ convention, RAVE v1/v2 attributes and nnplug's
// metadata, in the order of trust the plugin has always used, and the checks that refuse a file at load.
// python/nnplug/contract.py mirrors it rule for rule; tests/contract_cases/*.json hold the
// facts both must find (tests/cpp/test_model_file.cpp, tests/python/test_contract.py).
#include <torch/script.h>

#include "ModelFile.h"
#include "ModelCall.h"
#include "Json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

namespace nnplug {

namespace {

// The reason in an exception's text: its first line (c10::Error appends a backtrace), or for
// an error raised inside TorchScript code, the last line (the script's own exception).
std::string firstLineOf (const char* what)
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

void readConvention (torch::jit::Module& m, ModelInfo& info);
void readMetadata (const std::string& text, ModelInfo& info);
void readStreamingState (torch::jit::Module& m, ModelInfo& info);
void readAttributeControls (torch::jit::Module& m, ModelInfo& info);
bool isNeutone (torch::jit::Module& m);
void readNeutone (torch::jit::Module& m, ModelInfo& info);

} // namespace

std::string firstErrorLine (const char* what) { return firstLineOf (what); }

bool hasMethod (torch::jit::Module& m, const std::string& name)
{
    return m.find_method (name).has_value();
}

namespace {

void readConvention (torch::jit::Module& m, ModelInfo& info)
{

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
    readStreamingState (m, info);
    readAttributeControls (m, info);

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


// cached_conv keeps a stream's past in `pad` buffers of its padding modules, which RAVE's
// exporter makes only with caching on; its container classes are in both kinds of export.
// contract.py's _read_streaming_state holds the same rule.
void readStreamingState (torch::jit::Module& m, ModelInfo& info)
{
    bool cachedConv = false;
    for (const auto& sub : m.named_modules())
    {
        const auto& type = sub.value.type();
        const std::string cls = type && type->name() ? type->name()->name() : std::string();
        if (cls == "CachedSequential" || cls == "CachedPadding1d" || cls == "CachedPQMF")
            cachedConv = true;
    }
    if (! cachedConv)
        return;
    bool caches = false;
    for (const auto& b : m.named_buffers (true))
    {
        const auto dot = b.name.rfind ('.');
        if ((dot == std::string::npos ? b.name : b.name.substr (dot + 1)) == "pad" && b.value.numel() > 0)
            caches = true;
    }
    info.streaming = caches;
    info.streamingEvidence = caches ? "cached_conv cache buffers"
                                    : "cached_conv layers without cache buffers (exported without streaming)";
}

// nn~ attributes (get_attributes()) holding one number or bool, with get_/set_<name>: the
// getter gives the type and default. nn~ states no range: a bool is 0..1; a number d gets
// [min(0, 2d), max(1, 2d)]. contract.py's _attribute_controls holds the same rule.
void readAttributeControls (torch::jit::Module& m, ModelInfo& info)
{
    if (! hasMethod (m, "get_attributes"))
        return;
    std::vector<std::string> names;
    try
    {
        ModelCallScope scope;
        const auto list = m.get_method ("get_attributes") ({});   // kept alive while its items are read
        for (const auto& v : list.toListRef())
            names.push_back (v.toStringRef());
    }
    catch (const std::exception&) { return; }   // the file's own method failed: no controls
    for (const auto& name : names)
    {
        if (! hasMethod (m, "get_" + name) || ! hasMethod (m, "set_" + name))
            continue;
        c10::IValue value;
        try
        {
            ModelCallScope scope;
            value = m.get_method ("get_" + name) ({});
        }
        catch (const std::exception&) { continue; }
        if (value.isTuple())
        {
            const auto& items = value.toTupleRef().elements();
            if (items.size() != 1)
                continue;
            value = items[0];
        }
        ControlSpec c;
        c.name = name;
        c.kind = "attribute";
        if (value.isBool())
        {
            c.type = "bool";
            c.defaultValue = value.toBool() ? 1 : 0;
            c.lo = 0;
            c.hi = 1;
        }
        else if (value.isInt() || (value.isDouble() && std::isfinite (value.toDouble())))
        {
            c.type = value.isInt() ? "int" : "float";
            c.defaultValue = value.isInt() ? (double) value.toInt() : value.toDouble();
            c.lo = std::min (0.0, 2 * c.defaultValue);
            c.hi = std::max (1.0, 2 * c.defaultValue);
        }
        else
            continue;
        info.controls.push_back (c);
        if ((int) info.controls.size() == kMaxModelControls)
            break;
    }
}

constexpr const char* kNeutoneMethods[] = { "set_daw_sample_rate_and_buffer_size", "calc_buffering_delay_samples",
                                            "calc_model_delay_samples", "is_input_mono", "is_output_mono",
                                            "get_metadata_json" };

// A Neutone SDK WaveformToWaveform file (its SampleQueueWrapper's methods).
bool isNeutone (torch::jit::Module& m)
{
    for (const char* name : kNeutoneMethods)
        if (! hasMethod (m, name))
            return false;
    return ! m.hasattr ("forward_params");
}

void readNeutone (torch::jit::Module& m, ModelInfo& info)
{
    Json meta;
    std::string text;
    std::vector<double> defaults;
    bool monoIn = false, monoOut = false;
    try
    {
        ModelCallScope scope;
        text = m.get_method ("get_metadata_json") ({}).toStringRef();
        meta = Json::parse (text);
        monoIn = m.get_method ("is_input_mono") ({}).toBool();
        monoOut = m.get_method ("is_output_mono") ({}).toBool();
        if (hasMethod (m, "get_default_param_values"))
        {
            auto t = m.get_method ("get_default_param_values") ({}).toTensor().flatten().to (torch::kDouble).contiguous();
            defaults.assign (t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
        }
    }
    catch (const std::exception& e)
    {
        throw ModelError (std::string ("Neutone file whose metadata cannot be read: ") + firstLineOf (e.what()));
    }
    if (! meta.isObject())
        throw ModelError ("Neutone file whose metadata is not a JSON object");
    info.format = "neutone";
    info.neutone = true;
    info.name = meta["model_name"].str();
    const auto& authors = meta["model_authors"];
    if (authors.isArray())
    {
        for (const auto& a : authors.items())
            info.author += (info.author.empty() ? "" : ", ") + a.str();
    }
    else
        info.author = authors.str();
    info.description = meta["model_short_description"].str();
    info.version = meta["model_version"].str();
    info.metadataJson = text;
    info.hasReset = hasMethod (m, "reset");
    info.methods = { "forward" };
    info.forward.present = true;
    info.forward.inChannels = monoIn ? 1 : 2;
    info.forward.outChannels = monoOut ? 1 : 2;
    const auto& params = meta["neutone_parameters"];
    for (int i = 0; i < kNeutoneKnobs; ++i)
    {
        const auto& spec = params["p" + std::to_string (i + 1)];
        if (! spec.isObject() || ! spec["used"].boolean (true) || spec["type"].str ("continuous") != "continuous")
            continue;
        ControlSpec c;
        c.name = spec["name"].str();
        if (c.name.empty())
            c.name = "p" + std::to_string (i + 1);
        c.kind = "knob";
        c.type = "float";
        c.description = spec["description"].str();
        c.defaultValue = i < (int) defaults.size() ? defaults[(size_t) i] : 0.0;
        c.slot = i;
        info.controls.push_back (c);
    }
}

void readMetadata (const std::string& text, ModelInfo& info)
{
    Json j;
    try { j = Json::parse (text); }
    catch (const JsonError& e) { throw ModelError (std::string ("nnplug metadata is not valid JSON: ") + e.what()); }
    if (! j.isObject())
        throw ModelError ("nnplug metadata is not a JSON object");
    const int fv = j["format_version"].integer (0);
    if (fv != 1)
        throw ModelError ("unsupported nnplug metadata format_version " + std::to_string (fv));

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
    if (j["streaming"].isBool())
    {
        info.streaming = j["streaming"].boolean (true);
        info.streamingEvidence = "nnplug metadata";
    }
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

// The facts of playing encode -> decode (latent) or forward; throws when that path cannot be
// played. contract.py's _apply_path holds the same rule.
void applyPath (ModelInfo& info, bool latent, const std::string& chosen)
{
    const std::string prefix = chosen.empty() ? "" : "model method " + chosen + ": ";
    const auto& e = info.encode;
    const auto& d = info.decode;
    info.latentPath = latent;
    if (! latent)
    {
        if (! info.forward.present)
            throw ModelError (prefix + "model has no usable method: needs forward_params (or encode/decode) per the nn~ convention");
        if (info.forward.inRatio != 1 || info.forward.outRatio != 1)
            throw ModelError (prefix + "forward is not audio-to-audio (in_ratio " + std::to_string (info.forward.inRatio)
                              + ", out_ratio " + std::to_string (info.forward.outRatio) + ")");
        if (info.forward.delay >= 0)
        {
            info.delay = info.forward.delay;
            info.delayKnown = true;
        }
        return;
    }
    info.latentSize = info.latentSize > 0 ? info.latentSize : e.outChannels;
    info.ratio = std::lcm (info.ratio, e.outRatio);
    if (e.delay >= 0 && d.delay >= 0)
    {
        // Each method's delay counts samples of its own output rate: encode's latent frames
        // are e.outRatio audio samples apart.
        info.delay = e.delay * e.outRatio + d.delay;
        info.delayKnown = true;
    }
}

} // namespace

namespace {
ModelFile describe (torch::jit::Module module, const std::string& metadata, const std::string& path, MethodChoice choice);
}

ModelFile readModelFile (const std::string& path, MethodChoice choice)
{
    auto loaded = loadModule (path);
    return describe (std::move (loaded.module), loaded.metadata, path, choice);
}

LoadedModule loadModule (const std::string& path)
{
    LoadedModule loaded;
    loaded.path = path;
    std::error_code ec;
    if (! std::filesystem::is_regular_file (path, ec))
        throw ModelError ("model file not found: " + path);

    torch::jit::ExtraFilesMap extra { { "nnplug.json", "" } };
    try
    {
        loaded.module = torch::jit::load (path, torch::kCPU, extra);
        loaded.module.eval();
    }
    catch (const std::exception& e)
    {
        throw ModelError ("not a loadable TorchScript file (" + path + "): " + firstLineOf (e.what()));
    }
    loaded.metadata = extra["nnplug.json"];
    return loaded;
}

ModelFile describeModule (const LoadedModule& loaded, MethodChoice choice)
{
    torch::jit::Module copy;
    try
    {
        // A deep copy (parameters, buffers, attributes): the loaded module stays as read, so
        // the next engine built from it starts from the file's state, not from a stream's.
        copy = loaded.module.clone();
    }
    catch (const std::exception& e)
    {
        throw ModelError ("cannot copy the loaded model: " + firstLineOf (e.what()));
    }
    return describe (std::move (copy), loaded.metadata, loaded.path, choice);
}

namespace {

ModelFile describe (torch::jit::Module module, const std::string& metadata, const std::string& path, MethodChoice choice)
{
    ModelFile file;
    file.module = std::move (module);
    auto& info = file.info;
    info.path = path;

    try
    {
        if (isNeutone (file.module))
            readNeutone (file.module, info);
        else
        {
            readConvention (file.module, info);
            std::string json = metadata;
            if (json.empty() && file.module.hasattr ("nnplug_metadata"))
            {
                auto v = file.module.attr ("nnplug_metadata");
                if (v.isString())
                    json = v.toStringRef();
            }
            if (! json.empty())
                readMetadata (json, info);
        }
    }
    catch (const ModelError&) { throw; }
    catch (const std::exception& e)
    {
        throw ModelError ("cannot read the model's interface: " + firstLineOf (e.what()));
    }

    if (info.name.empty())
        info.name = std::filesystem::path (path).stem().string();
    if (! info.neutone)
    {
        const auto& e = info.encode;
        const auto& d = info.decode;
        info.latentPathFits = e.present && d.present && e.inRatio == 1 && d.outRatio == 1
                              && e.outChannels == d.inChannels && e.outRatio == d.inRatio && e.outRatio >= 1;
        // Auto: encode -> decode when both exist and fit together (so the latent controls can
        // act), forward otherwise. Another choice forgets the delay stated for Auto's path.
        bool latent = info.latentPathFits;
        if (choice != MethodChoice::Auto && (choice == MethodChoice::EncodeDecode) != latent)
        {
            latent = choice == MethodChoice::EncodeDecode;
            if (latent && ! info.latentPathFits)
                throw ModelError ("model method encode -> decode: the file has no encode/decode pair that fits together");
            info.delay = 0;
            info.delayKnown = false;
        }
        applyPath (info, latent, choice == MethodChoice::Auto ? "" : latent ? "encode -> decode" : "forward");
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
    return file;
}

} // namespace

} // namespace nnplug
