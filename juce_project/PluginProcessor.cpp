#include "PluginProcessor.h"
#include "PluginEditor.h"
#include "Json.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>

namespace {

constexpr int kStateVersion = 1;
// Limits checked before a state blob is parsed: ours is a few kB with ~30 elements, and JUCE's
// XML parser recurses once per nesting level (a deeply nested blob would overflow the stack).
constexpr int kMaxStateBytes = 1 << 20;
constexpr int kMaxStateElements = 4096;
const juce::Identifier kStateType ("NNPLUG");

// The current thread runs processBlock (and is not the message thread): changes requested
// from here must not load anything.
thread_local bool tlsAudioThread = false;
thread_local bool tlsInProcessBlock = false;

bool onAudioThread()
{
    return tlsAudioThread && ! juce::MessageManager::existsAndIsCurrentThread();
}

bool isStructural (const juce::String& id)
{
    return id == ParamID::bufferSize || id == ParamID::inferenceMode || id == ParamID::monoMode;
}

} // namespace

const juce::StringArray& NnplugProcessor::bufferSizeChoices()
{
    static const juce::StringArray choices { "Auto", "64", "128", "256", "512", "1024", "2048", "4096", "8192", "16384" };
    return choices;
}

juce::AudioProcessorValueTreeState::ParameterLayout NnplugProcessor::createLayout()
{
    using namespace juce;
    AudioProcessorValueTreeState::ParameterLayout layout;
    auto dB = [] (float v, int) { return String (v, 1) + " dB"; };
    layout.add (std::make_unique<AudioParameterFloat> (ParameterID { ParamID::inputGain, 1 }, "Input gain",
                                                       NormalisableRange<float> (-24.0f, 24.0f, 0.01f), 0.0f,
                                                       AudioParameterFloatAttributes().withStringFromValueFunction (dB)));
    layout.add (std::make_unique<AudioParameterFloat> (ParameterID { ParamID::outputGain, 1 }, "Output gain",
                                                       NormalisableRange<float> (-24.0f, 24.0f, 0.01f), 0.0f,
                                                       AudioParameterFloatAttributes().withStringFromValueFunction (dB)));
    layout.add (std::make_unique<AudioParameterFloat> (ParameterID { ParamID::dryWet, 1 }, "Dry/wet",
                                                       NormalisableRange<float> (0.0f, 100.0f, 0.1f), 100.0f,
                                                       AudioParameterFloatAttributes().withLabel ("%")));
    // Structural: changing them rebuilds the engine (and its latency), so not automatable.
    layout.add (std::make_unique<AudioParameterChoice> (ParameterID { ParamID::bufferSize, 1 }, "Model buffer size",
                                                        bufferSizeChoices(), 0,
                                                        AudioParameterChoiceAttributes().withAutomatable (false)));
    layout.add (std::make_unique<AudioParameterChoice> (ParameterID { ParamID::inferenceMode, 1 }, "Inference mode",
                                                        StringArray { "Synchronous", "Worker thread" }, 0,
                                                        AudioParameterChoiceAttributes().withAutomatable (false)));
    layout.add (std::make_unique<AudioParameterChoice> (ParameterID { ParamID::onFailure, 1 }, "On failure",
                                                        StringArray { "Pass dry", "Silence" }, 0));
    layout.add (std::make_unique<AudioParameterChoice> (ParameterID { ParamID::monoMode, 1 }, "Mono model on stereo",
                                                        StringArray { "Per channel", "Downmix" }, 0,
                                                        AudioParameterChoiceAttributes().withAutomatable (false)));
    for (int i = 0; i < nnplug::kLatentControls; ++i)
    {
        layout.add (std::make_unique<AudioParameterFloat> (ParameterID { ParamID::latentScale (i), 1 },
                                                           "Latent " + String (i + 1) + " scale",
                                                           NormalisableRange<float> (-4.0f, 4.0f, 0.001f), 1.0f));
        layout.add (std::make_unique<AudioParameterFloat> (ParameterID { ParamID::latentBias (i), 1 },
                                                           "Latent " + String (i + 1) + " bias",
                                                           NormalisableRange<float> (-4.0f, 4.0f, 0.001f), 0.0f));
    }
    return layout;
}

NnplugProcessor::NnplugProcessor()
    : AudioProcessor (BusesProperties()
                          .withInput ("Input", juce::AudioChannelSet::stereo(), true)
                          .withOutput ("Output", juce::AudioChannelSet::stereo(), true)),
      apvts (*this, nullptr, kStateType, createLayout())
{
    // No model is loaded here: hosts create throw-away instances to scan plugins.
    for (auto* id : { ParamID::bufferSize, ParamID::inferenceMode, ParamID::monoMode })
        apvts.addParameterListener (id, this);
    updateControls();
    loader = std::thread ([this] { loaderLoop(); });
}

NnplugProcessor::~NnplugProcessor()
{
    for (auto* id : { ParamID::bufferSize, ParamID::inferenceMode, ParamID::monoMode })
        apvts.removeParameterListener (id, this);
    loaderStop.store (true);
    loaderSem.release();
    loader.join();
    engines.installNow (nullptr);
}

void NnplugProcessor::loaderLoop()
{
    for (;;)
    {
        // woken by a rebuild request; otherwise every 100 ms, to free retired engines
        (void) loaderSem.try_acquire_for (std::chrono::milliseconds (100));
        if (loaderStop.load())
            return;
        std::lock_guard<std::mutex> lock (buildMutex);
        engines.collect();
        while (rebuildRequested.load())
        {
            building.store (true);
            rebuildRequested.store (false);
            if (prepared)
                rebuild (false);
            building.store (false);
        }
    }
}

void NnplugProcessor::parameterChanged (const juce::String& id, float)
{
    if (! isStructural (id) || restoringState)
        return;
    if (onAudioThread())
    {
        rebuildRequested.store (true);
        loaderSem.release();
        return;
    }
    std::lock_guard<std::mutex> lock (buildMutex);
    if (prepared)
        rebuild (false);
}

void NnplugProcessor::updateControls()
{
    auto get = [this] (const juce::String& id) { return apvts.getRawParameterValue (id)->load(); };
    controls.inputGain.store (juce::Decibels::decibelsToGain (get (ParamID::inputGain), -1000.0f));
    controls.outputGain.store (juce::Decibels::decibelsToGain (get (ParamID::outputGain), -1000.0f));
    controls.mix.store (get (ParamID::dryWet) / 100.0f);
    controls.failure.store ((int) get (ParamID::onFailure));
    for (int i = 0; i < nnplug::kLatentControls; ++i)
    {
        controls.latent.scale[(size_t) i].store (get (ParamID::latentScale (i)));
        controls.latent.bias[(size_t) i].store (get (ParamID::latentBias (i)));
    }
}

nnplug::EngineConfig NnplugProcessor::currentConfig() const
{
    nnplug::EngineConfig c;
    c.hostRate = hostRate;
    c.maxBlock = maxBlock;
    // Buffering for any block sequence (N - 1), not N - gcd(N, B) for the prepared size B:
    // hosts may send blocks of other sizes, and some (pedalboard) read the latency before
    // they call prepareToPlay with a new block size, so it must not depend on B. The
    // measurements behind this are in plugin/src/Reblocker.h.
    c.hostBlock = 0;
    c.hostChannels = hostChannels;
    const int choice = (int) apvts.getRawParameterValue (ParamID::bufferSize)->load();
    c.bufferSize = choice <= 0 ? 0 : bufferSizeChoices()[choice].getIntValue();
    c.mode = (int) apvts.getRawParameterValue (ParamID::inferenceMode)->load() == 1 ? nnplug::InferenceMode::Worker
                                                                                   : nnplug::InferenceMode::Synchronous;
    c.channelMode = (int) apvts.getRawParameterValue (ParamID::monoMode)->load() == 1 ? nnplug::ChannelMode::Downmix
                                                                                    : nnplug::ChannelMode::PerChannel;
    return c;
}

juce::File NnplugProcessor::bundledModelsDir()
{
    // The plugin binary: <bundle>.vst3/Contents/<arch>/nnplug.so, <bundle>.lv2/nnplug.so, or
    // the Standalone executable.
    const auto binary = juce::File::getSpecialLocation (juce::File::currentExecutableFile);
    for (auto dir : { binary.getParentDirectory().getParentDirectory().getChildFile ("Resources/models"),
                      binary.getParentDirectory().getChildFile ("Resources/models") })
        if (dir.getChildFile ("manifest.json").existsAsFile())
            return dir;
    return {};
}

juce::String NnplugProcessor::resolveModelPath (juce::String& whyNot) const
{
    if (modelPath.isNotEmpty())
        return modelPath;
    const auto dir = bundledModelsDir();
    if (dir == juce::File())
    {
        whyNot = "no model: the state names none and none is staged in the bundle (use `nnplug stage`)";
        return {};
    }
    try
    {
        const auto manifest = nnplug::Json::parse (dir.getChildFile ("manifest.json").loadFileAsString().toStdString());
        const auto& models = manifest["models"].items();
        const std::string wanted = manifest["default"].str();
        for (const auto& m : models)
            if (wanted.empty() || m["name"].str() == wanted)
                return dir.getChildFile (juce::String (m["file"].str())).getFullPathName();
        whyNot = "no model: the bundle's manifest.json lists no default model";
    }
    catch (const std::exception& e)
    {
        whyNot = juce::String ("bundle manifest.json unreadable: ") + e.what();
    }
    return {};
}

void NnplugProcessor::rebuild (bool audioStopped)
{
    updateControls();
    engines.collect();
    juce::String why;
    const auto path = resolveModelPath (why);
    loadWarning = {};
    if (path.isEmpty())
    {
        loadError = why;
        loadedPath = loadedSha = {};
        if (audioStopped) engines.installNow (nullptr); else engines.offerNone();
        loadFailed.store (true);
        setLatencySamples (0);
        return;
    }
    try
    {
        auto host = std::make_unique<nnplug::ModelRunner> (path.toStdString());
        auto engine = std::make_unique<nnplug::Engine> (std::move (host), currentConfig(), controls);
        loadedSha = juce::SHA256 (juce::File (path)).toHexString();
        loadedPath = path;
        loadError = {};
        loadWarning = engine->warning();
        if (expectedSha.isNotEmpty() && expectedSha != loadedSha)
            loadWarning << (loadWarning.isEmpty() ? "" : "; ")
                        << "model file differs from the one saved with this state (sha256 mismatch)";
        const int latency = engine->latency();
        if (audioStopped) engines.installNow (engine.release()); else engines.offer (engine.release());
        loadFailed.store (false);
        setLatencySamples (latency);
    }
    catch (const std::exception& e)
    {
        loadError = e.what();
        loadedPath = path;
        loadedSha = {};
        if (audioStopped) engines.installNow (nullptr); else engines.offerNone();
        loadFailed.store (true);
        setLatencySamples (0);
    }
}

void NnplugProcessor::loadModel (const juce::String& path)
{
    std::lock_guard<std::mutex> lock (buildMutex);
    modelPath = path;
    expectedSha = {};
    if (prepared)
        rebuild (false);
}

void NnplugProcessor::prepareToPlay (double sampleRate, int samplesPerBlock)
{
    std::lock_guard<std::mutex> lock (buildMutex);
    const int channels = std::max (1, std::max (getTotalNumInputChannels(), getTotalNumOutputChannels()));
    // A new block size alone does not rebuild (that would restart the stream): the engine
    // splits blocks larger than the size it was built for, and its latency does not depend
    // on the block size. pedalboard, for one, re-prepares whenever buffer_size changes.
    const bool changed = ! prepared || sampleRate != hostRate || channels != hostChannels
                         || samplesPerBlock > maxBlock;
    hostRate = sampleRate;
    if (changed)
        maxBlock = std::max ({ 1, samplesPerBlock, 2048 });
    hostChannels = channels;
    if (changed || engines.current() == nullptr)
    {
        // Audio is stopped here, so the new engine takes over at once.
        engines.prepare (hostChannels, maxBlock, (int) std::lround (0.02 * sampleRate));
        prepared = true;
        rebuild (true);
    }
}

void NnplugProcessor::releaseResources() {}

void NnplugProcessor::reset()
{
    // A stream restart is a sync point: a rebuild asked for from the audio thread finishes
    // first, so that the restarted stream (and the latency the host reads) uses it. Hosts
    // call reset() outside the real-time callback.
    if (! tlsInProcessBlock)
        while (rebuildRequested.load() || building.load())
            std::this_thread::sleep_for (std::chrono::milliseconds (1));
    engines.requestRestart();
}

bool NnplugProcessor::isBusesLayoutSupported (const BusesLayout& layouts) const
{
    const auto& out = layouts.getMainOutputChannelSet();
    if (out != juce::AudioChannelSet::mono() && out != juce::AudioChannelSet::stereo())
        return false;
    return layouts.getMainInputChannelSet() == out;
}

void NnplugProcessor::processBlock (juce::AudioBuffer<float>& buffer, juce::MidiBuffer&)
{
    render (buffer, false);
}

void NnplugProcessor::processBlockBypassed (juce::AudioBuffer<float>& buffer, juce::MidiBuffer&)
{
    render (buffer, true);
}

void NnplugProcessor::render (juce::AudioBuffer<float>& buffer, bool bypassed)
{
    // No ScopedNoDenormals: the model must see the same floating-point environment as torch
    // in Python, or renders would not be bit-identical.
    tlsAudioThread = true;
    struct InBlock { InBlock() { tlsInProcessBlock = true; } ~InBlock() { tlsInProcessBlock = false; } } inBlock;
    const int numSamples = buffer.getNumSamples();
    for (auto i = getTotalNumInputChannels(); i < getTotalNumOutputChannels(); ++i)
        buffer.clear (i, 0, numSamples);
    if (numSamples == 0)
        return;

    const bool offline = isNonRealtime();
    if (offline)
    {
        // Offline renders must not depend on timing: wait for a rebuild asked for from here.
        while (rebuildRequested.load() || building.load())
            std::this_thread::sleep_for (std::chrono::milliseconds (1));
    }

    updateControls();
    controls.bypass.store (bypassed);
    if (! bypassed && engines.current() == nullptr && loadFailed.load()
        && controls.failure.load() == (int) nnplug::FailureMode::Silence)
    {
        buffer.clear();
        return;
    }
    engines.process (buffer.getArrayOfWritePointers(), buffer.getNumChannels(), numSamples, offline);
}

double NnplugProcessor::getTailLengthSeconds() const
{
    // After the input stops the model still emits its delayed output: latency plus a buffer.
    const double rate = getSampleRate() > 0 ? getSampleRate() : 44100.0;
    if (auto* e = engines.current())
        return (e->latency() + e->bufferSize()) / rate;
    return 0.0;
}

void NnplugProcessor::getStateInformation (juce::MemoryBlock& destData)
{
    auto state = apvts.copyState();
    std::unique_ptr<juce::XmlElement> xml (state.createXml());
    if (xml == nullptr)
        return;
    xml->setAttribute ("version", kStateVersion);
    {
        std::lock_guard<std::mutex> lock (buildMutex);
        xml->setAttribute ("model_path", modelPath);
        xml->setAttribute ("model_sha256", loadedSha.isNotEmpty() ? loadedSha : expectedSha);
    }
    // What the plugin is doing, for hosts and tools (python/nnplug/hosts/status.py reads it):
    // written with every state, ignored when a state is restored.
    const auto s = getStatus();
    auto* st = xml->createNewChildElement ("STATUS");
    st->setAttribute ("loaded", s.loaded ? 1 : 0);
    st->setAttribute ("failed", s.failed ? 1 : 0);
    st->setAttribute ("message", s.message);
    st->setAttribute ("state_message", s.stateMessage);
    st->setAttribute ("model_name", s.modelName);
    st->setAttribute ("model_file", s.modelPath);
    st->setAttribute ("format", s.format);
    st->setAttribute ("latency", s.latency);
    st->setAttribute ("buffer_size", s.bufferSize);
    st->setAttribute ("model_rate", s.modelRate);
    st->setAttribute ("host_rate", s.hostRate);
    copyXmlToBinary (*xml, destData);
}

void NnplugProcessor::setStateInformation (const void* data, int sizeInBytes)
{
    // Anything we do not recognise is rejected as a whole or ignored field by field; the
    // current values stay, and the status (state_message) says what was ignored.
    auto reject = [this] (const juce::String& why)
    {
        std::lock_guard<std::mutex> lock (buildMutex);
        stateError = "state ignored: " + why;
    };
    if (data == nullptr || sizeInBytes <= 0)
        return reject ("empty");
    if (sizeInBytes > kMaxStateBytes)
        return reject ("larger than " + juce::String (kMaxStateBytes) + " bytes");
    {
        const auto* bytes = static_cast<const char*> (data);
        if (std::count (bytes, bytes + sizeInBytes, '<') > kMaxStateElements)
            return reject ("more than " + juce::String (kMaxStateElements) + " XML elements");
    }
    auto xml = getXmlFromBinary (data, sizeInBytes);
    if (xml == nullptr)
        return reject ("not an nnplug state (no XML in the format of copyXmlToBinary)");
    if (! xml->hasTagName (kStateType.toString()))
        return reject ("not an nnplug state (<" + xml->getTagName().substring (0, 40) + ">)");
    const int version = xml->getIntAttribute ("version", 0);
    if (version < 1 || version > kStateVersion)
        return reject ("state version " + xml->getStringAttribute ("version").substring (0, 20)
                       + " is not supported (this plugin reads 1.." + juce::String (kStateVersion) + ")");

    juce::StringArray ignored;
    restoringState = true;
    for (auto* p : xml->getChildWithTagNameIterator ("PARAM"))
    {
        const auto id = p->getStringAttribute ("id");
        auto* param = dynamic_cast<juce::RangedAudioParameter*> (apvts.getParameter (id));
        const auto text = p->getStringAttribute ("value").trim();
        const float v = text.getFloatValue();
        if (param == nullptr || text.isEmpty() || ! (text.containsOnly ("0123456789.-+eE")) || ! std::isfinite (v))
        {
            // quoted as printable ASCII: the status must stay readable by any XML parser
            ignored.add ("PARAM " + id.substring (0, 40).retainCharacters (
                                        " !#$%()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz{|}~")
                                        .quoted());
            continue;
        }
        const auto& range = param->getNormalisableRange();
        param->setValueNotifyingHost (param->convertTo0to1 (juce::jlimit (range.start, range.end, v)));
    }
    restoringState = false;

    std::lock_guard<std::mutex> lock (buildMutex);
    // A model path must be absolute (or empty: the bundle's default) and a sha256 64 hex digits.
    const auto path = xml->getStringAttribute ("model_path");
    const auto sha = xml->getStringAttribute ("model_sha256");
    if (path.isEmpty() || juce::File::isAbsolutePath (path))
        modelPath = path;
    else
        ignored.add ("model_path (not an absolute path)");
    if (sha.isEmpty() || (sha.length() == 64 && sha.containsOnly ("0123456789abcdef")))
        expectedSha = sha;
    else
    {
        expectedSha = {};
        ignored.add ("model_sha256 (not a sha256)");
    }
    stateError = ignored.isEmpty() ? juce::String() : "state: ignored " + ignored.joinIntoString (", ");
    if (prepared)
        rebuild (false);
}

NnplugProcessor::Status NnplugProcessor::getStatus() const
{
    std::lock_guard<std::mutex> lock (buildMutex);
    const_cast<nnplug::EngineSwitch&> (engines).collect();
    Status s;
    s.hostRate = hostRate;
    s.modelPath = loadedPath;
    s.sha256 = loadedSha;
    s.message = loadError.isNotEmpty() ? loadError : loadWarning;
    s.failed = loadError.isNotEmpty();
    s.stateMessage = stateError;
    if (auto* e = engines.current())
    {
        const auto& info = e->info();
        s.loaded = true;
        s.modelName = info.name;
        s.format = info.format;
        s.method = info.pathDescription();
        s.modelRate = info.sampleRate;
        s.ratio = info.ratio;
        s.bufferSize = e->bufferSize();
        s.latency = e->latency();
        s.modelDelay = e->modelDelay();
        if (e->failed())
        {
            s.failed = true;
            s.message = juce::String ("model failed: ") + e->error();
        }
    }
    return s;
}

juce::AudioProcessorEditor* NnplugProcessor::createEditor()
{
    return new NnplugEditor (*this);
}

juce::AudioProcessor* JUCE_CALLTYPE createPluginFilter()
{
    return new NnplugProcessor();
}
