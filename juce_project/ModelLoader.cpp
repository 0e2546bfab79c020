#include "ModelLoader.h"
#include "BundledModels.h"
#include "DelayMemory.h"
#include "Parameters.h"

#include <juce_cryptography/juce_cryptography.h>

#include <algorithm>
#include <cmath>

namespace nnplug {

ModelLoader::ModelLoader (juce::AudioProcessor& p, juce::AudioProcessorValueTreeState& a, EngineSwitch& e, Controls& c)
    : processor (p), apvts (a), engines (e), controls (c)
{
    engines.setRetiredSignal (&wake);
    thread = std::thread ([this] { loop(); });
}

ModelLoader::~ModelLoader()
{
    stop.store (true);
    wake.release();
    thread.join();
    engines.setRetiredSignal (nullptr);
}

void ModelLoader::loop()
{
    for (;;)
    {
        wake.acquire();
        if (stop.load())
            return;
        {
            std::lock_guard<std::mutex> lock (buildMutex);
            engines.collect();
        }
        while (takeRequest())
        {
            std::lock_guard<std::mutex> lock (buildMutex);
            if (prepared)
                rebuild (false);
        }
    }
}

bool ModelLoader::takeRequest()
{
    std::lock_guard<std::mutex> lock (idleMutex);
    building = requested.exchange (false);
    if (! building)
        idle.notify_all();
    return building;
}

void ModelLoader::structureChanged (bool onAudioThread)
{
    if (onAudioThread)
    {
        requested.store (true);
        wake.release();
        return;
    }
    std::lock_guard<std::mutex> lock (buildMutex);
    if (prepared)
        rebuild (false);
}

void ModelLoader::waitUntilIdle()
{
    std::unique_lock<std::mutex> lock (idleMutex);
    idle.wait (lock, [this] { return ! requested.load() && ! building; });
}

EngineConfig ModelLoader::config() const
{
    EngineConfig c;
    c.hostRate = hostRate;
    c.maxBlock = maxBlock;
    // Buffering for any block sequence (N - 1), not N - gcd(N, B) for the prepared size B:
    // hosts may send blocks of other sizes, and some (pedalboard) read the latency before
    // they call prepareToPlay with a new block size, so it must not depend on B. The
    // measurements behind this are in plugin/src/Reblocker.h.
    c.hostBlock = 0;
    c.hostChannels = hostChannels;
    readStructure (apvts, c);
    return c;
}

void ModelLoader::rebuild (bool audioStopped)
{
    readControls (apvts, controls);
    engines.collect();
    juce::String why;
    const auto path = modelPath.isNotEmpty() ? modelPath : defaultModelPath (why);
    loadWarning = {};
    auto fail = [&] (const juce::String& error, const juce::String& failedPath)
    {
        loadError = error;
        loadedPath = failedPath;
        loadedSha = {};
        if (audioStopped) engines.installNow (nullptr); else engines.offerNone();
        loadFailed.store (true, std::memory_order_release);
        processor.setLatencySamples (0);
    };
    if (path.isEmpty())
        return fail (why, {});
    try
    {
        const auto cfg = config();
        auto runner = std::make_unique<ModelRunner> (path.toStdString(), cfg.method);
        const auto sha = juce::SHA256 (juce::File (path)).toHexString();
        const juce::String played (runner->info().playedName());
        const bool delayUnstated = ! runner->info().delayKnown && ! runner->info().neutone;
        const auto remembered = delayUnstated ? recallDelay (sha, played) : RememberedDelay();
        if (remembered)
            runner->setMeasuredDelay (*remembered);
        auto engine = std::make_unique<Engine> (std::move (runner), cfg, controls);
        if (delayUnstated && ! remembered)
            rememberDelay (sha, played, engine->info().delayKnown ? std::optional<int> (engine->info().delay) : std::nullopt);
        loadedSha = sha;
        loadedPath = path;
        loadError = {};
        loadWarning = engine->warning();
        if (expectedSha.isNotEmpty() && expectedSha != loadedSha)
            loadWarning << (loadWarning.isEmpty() ? "" : "; ")
                        << "model file differs from the one saved with this state (sha256 mismatch)";
        const int latency = engine->latency();
        if (audioStopped) engines.installNow (engine.release()); else engines.offer (engine.release());
        loadFailed.store (false, std::memory_order_release);
        processor.setLatencySamples (latency);
    }
    catch (const std::exception& e)
    {
        fail (e.what(), path);
    }
}

void ModelLoader::prepare (double sampleRate, int samplesPerBlock, int channels)
{
    std::lock_guard<std::mutex> lock (buildMutex);
    channels = std::max (1, channels);
    // A new block size alone does not rebuild (that would restart the stream): the engine
    // splits blocks larger than the size it was built for, and its latency does not depend
    // on the block size. pedalboard, for one, re-prepares whenever buffer_size changes.
    const bool changed = ! prepared || sampleRate != hostRate || channels != hostChannels || samplesPerBlock > maxBlock;
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

void ModelLoader::load (const juce::String& path)
{
    std::lock_guard<std::mutex> lock (buildMutex);
    modelPath = path;
    expectedSha = {};
    if (prepared)
        rebuild (false);
}

void ModelLoader::restore (const ReadState& state)
{
    std::lock_guard<std::mutex> lock (buildMutex);
    if (state.modelPath)
        modelPath = *state.modelPath;
    expectedSha = state.modelSha256;
    stateError = state.ignored.isEmpty() ? juce::String() : "state: ignored " + state.ignored.joinIntoString (", ");
    if (prepared)
        rebuild (false);
}

void ModelLoader::rejectState (const juce::String& why)
{
    std::lock_guard<std::mutex> lock (buildMutex);
    stateError = "state ignored: " + why;
}

void ModelLoader::waitForInference()
{
    std::lock_guard<std::mutex> lock (buildMutex);   // no engine is deleted meanwhile (collect())
    if (auto* e = engines.current())
        e->waitForInference();
}

SavedModel ModelLoader::savedModel() const
{
    std::lock_guard<std::mutex> lock (buildMutex);
    return { modelPath, loadedSha.isNotEmpty() ? loadedSha : expectedSha };
}

PluginStatus ModelLoader::status() const
{
    std::lock_guard<std::mutex> lock (buildMutex);
    engines.collect();
    PluginStatus s;
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
        for (const auto& c : info.controls)
            s.controls.add (c.name);
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

} // namespace nnplug
