#include "ModelLoader.h"
#include "BundledModels.h"
#include "DelayMemory.h"
#include "Parameters.h"


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
            std::lock_guard<std::mutex> lock (engineMutex);   // not buildMutex: status() stays free
            engines.collect();
        }
        while (takeRequest())
        {
            std::lock_guard<std::mutex> lock (buildMutex);
            if (auto path = takeQueued())
                loadLocked (*path);
            else if (prepared)
                rebuild (false);
        }
    }
}

bool ModelLoader::takeRequest()
{
    std::lock_guard<std::mutex> lock (idleMutex);
    bool load;
    {
        std::lock_guard<std::mutex> q (queueMutex);
        load = queued.has_value();
    }
    // A queued load goes first; a rebuild requested with it stays requested (the load may be
    // refused, and the playing model must still get the new structure).
    building = load || requested.exchange (false);
    if (! building)
    {
        rebuilding.store (false);
        idle.notify_all();
    }
    return building;
}

std::optional<juce::String> ModelLoader::takeQueued()
{
    std::lock_guard<std::mutex> q (queueMutex);
    auto path = std::move (queued);
    queued.reset();
    return path;
}

void ModelLoader::requestLoad (const juce::String& path)
{
    {
        std::lock_guard<std::mutex> q (queueMutex);
        queued = path;   // a newer choice replaces one not started yet
    }
    loading.store (true);
    wake.release();
}

void ModelLoader::structureChanged (bool later)
{
    if (later)
    {
        rebuilding.store (true);
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
    idle.wait (lock, [this]
    {
        std::lock_guard<std::mutex> q (queueMutex);
        return ! requested.load() && ! building && ! queued.has_value();
    });
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

std::unique_ptr<Engine> ModelLoader::build (const juce::String& path, std::shared_ptr<const LoadedModule>& src,
                                            juce::String& sha)
{
    if (src == nullptr || path != loadedPath)
    {
        src = nullptr;   // on failure, nothing read
        sha = {};
        src = ModelRunner::read (path.toStdString());
        sha = sha256Of (juce::File (path));
    }
    const auto cfg = config();
    auto runner = std::make_unique<ModelRunner> (*src, cfg.method);
    runner->setLatentMonitor (&controls.latentView);
    const juce::String played (runner->info().playedName());
    const bool delayUnstated = ! runner->info().delayKnown && ! runner->info().neutone;
    const auto remembered = delayUnstated ? recallDelay (sha, played) : RememberedDelay();
    if (remembered)
        runner->setMeasuredDelay (*remembered);
    auto engine = std::make_unique<Engine> (std::move (runner), cfg, controls);
    if (delayUnstated && ! remembered)
        rememberDelay (sha, played, engine->info().delayKnown ? std::optional<int> (engine->info().delay) : std::nullopt);
    return engine;
}

void ModelLoader::install (std::unique_ptr<Engine> engine, bool audioStopped)
{
    loadError = {};
    loadWarning = engine->warning();
    if (expectedSha.isNotEmpty() && expectedSha != loadedSha)
        loadWarning << (loadWarning.isEmpty() ? "" : "; ")
                    << "model file differs from the one saved with this state (sha256 mismatch)";
    if (relinked.isNotEmpty())
        loadWarning = relinked + (loadWarning.isEmpty() ? "" : "; " + loadWarning);
    const int latency = engine->latency();
    {
        std::lock_guard<std::mutex> e (engineMutex);
        if (audioStopped) engines.installNow (engine.release()); else engines.offer (engine.release());
    }
    loadFailed.store (false, std::memory_order_release);
    processor.setLatencySamples (latency);
}

void ModelLoader::rebuild (bool audioStopped)
{
    readControls (apvts, controls);
    {
        std::lock_guard<std::mutex> e (engineMutex);
        engines.collect();
    }
    juce::String why;
    const auto path = modelPath.isNotEmpty() ? modelPath : defaultModelPath (why);
    loadWarning = {};
    auto fail = [&] (const juce::String& error, const juce::String& failedPath)
    {
        loadError = error;
        loadedPath = failedPath;
        loadedSha = {};
        source = nullptr;
        {
            std::lock_guard<std::mutex> e (engineMutex);
            if (audioStopped) engines.installNow (nullptr); else engines.offerNone();
        }
        loadFailed.store (true, std::memory_order_release);
        processor.setLatencySamples (0);
    };
    if (path.isEmpty())
        return fail (why, {});
    auto src = source;
    auto sha = loadedSha;
    try
    {
        auto engine = build (path, src, sha);
        source = std::move (src);
        loadedSha = sha;
        loadedPath = path;
        install (std::move (engine), audioStopped);
    }
    catch (const std::exception& e)
    {
        fail (e.what(), path);
        if (src != nullptr)   // the file was read: a later structural change builds from it
        {
            source = std::move (src);
            loadedSha = sha;
        }
    }
}

void ModelLoader::loadLocked (const juce::String& requestedPath)
{
    // "loading" stays on until the engine is built (or refused), for the editor.
    struct Done
    {
        ModelLoader& l;
        ~Done() { std::lock_guard<std::mutex> q (l.queueMutex); l.loading.store (l.queued.has_value()); }
    } done { *this };
    rejected = rejectedDetails = {};
    relinked = {};
    if (! prepared)
    {
        // Nothing can be built before the host's rate is known: prepare() loads it.
        modelPath = requestedPath;
        expectedSha = {};
        source = nullptr;
        return;
    }
    // Something plays: a file that cannot be played must not take it away.
    // (The last build succeeded; its engine may still wait for the audio thread to take it.)
    bool playingFailed;
    {
        std::lock_guard<std::mutex> e (engineMutex);
        auto* playing = engines.current();
        playingFailed = playing != nullptr && playing->failed();
    }
    const bool working = source != nullptr && loadError.isEmpty() && ! playingFailed;
    if (! working)
    {
        modelPath = requestedPath;
        expectedSha = {};
        rebuild (false);
        return;
    }
    juce::String why;
    const auto path = requestedPath.isNotEmpty() ? requestedPath : defaultModelPath (why);
    try
    {
        if (path.isEmpty())
            throw std::runtime_error (why.toStdString());
        std::shared_ptr<const LoadedModule> src;   // always read again: the user asked for this file
        juce::String sha;
        auto engine = build (path, src, sha);
        modelPath = requestedPath;
        expectedSha = {};
        source = std::move (src);
        loadedSha = sha;
        loadedPath = path;
        install (std::move (engine), false);
    }
    catch (const std::exception& e)
    {
        rejectedDetails = juce::String (e.what());
        const auto name = juce::File (path).getFileName();
        // One line: the file is named once, and the reason stops at its first sentence
        // (libtorch's messages run on); the details keep all of it.
        auto reason = rejectedDetails.upToFirstOccurrenceOf ("\n", false, false).replace (" (" + path + ")", "")
                                     .upToFirstOccurrenceOf (". ", false, false).trim();
        rejected = "could not load " + (name.isNotEmpty() ? name : juce::String ("the model")) + ": " + reason
                   + " (still playing " + juce::File (loadedPath).getFileName() + ")";
    }
}

void ModelLoader::relinkIfMissing()
{
    relinked = {};
    if (modelPath.isEmpty() || juce::File (modelPath).existsAsFile() || expectedSha.isEmpty())
        return;
    const auto found = findModelBySha (expectedSha, modelPath);
    if (found == juce::File())
        return;
    relinked = "relinked " + juce::File (modelPath).getFileName() + " (not found at " + modelPath + ") to "
               + found.getFullPathName() + " by its sha256";
    modelPath = found.getFullPathName();
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
        {
            std::lock_guard<std::mutex> e (engineMutex);
            engines.prepare (hostChannels, maxBlock, (int) std::lround (0.02 * sampleRate));
        }
        prepared = true;
        rebuild (true);
    }
}

void ModelLoader::load (const juce::String& path)
{
    std::lock_guard<std::mutex> lock (buildMutex);
    loadLocked (path);
}

void ModelLoader::restore (const ReadState& state)
{
    std::lock_guard<std::mutex> lock (buildMutex);
    {
        // A project or preset restored now supersedes a model picked in the editor that the
        // loader's thread has not started on yet.
        std::lock_guard<std::mutex> q (queueMutex);
        queued.reset();
        loading.store (false);
    }
    if (state.modelPath)
        modelPath = *state.modelPath;
    expectedSha = state.modelSha256;
    rejected = rejectedDetails = {};
    relinkIfMissing();
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
    std::lock_guard<std::mutex> lock (engineMutex);   // no engine is deleted meanwhile (collect())
    if (auto* e = engines.current())
        e->waitForInference();
}

SavedModel ModelLoader::savedModel() const
{
    std::lock_guard<std::mutex> lock (buildMutex);
    return { modelPath, loadedSha.isNotEmpty() ? loadedSha : expectedSha };
}

PluginStatus ModelLoader::status (bool wait) const
{
    std::unique_lock<std::mutex> lock (buildMutex, std::defer_lock);
    if (wait)
        lock.lock();
    else if (! lock.try_lock())
    {
        // A load or rebuild holds the lock (seconds for a large file): the editor's timer
        // shows the last status, marked loading, instead of freezing the interface.
        std::lock_guard<std::mutex> c (cacheMutex);
        auto s = cached;
        s.loading = loading.load() || rebuilding.load();
        return s;
    }
    auto s = statusLocked();
    std::lock_guard<std::mutex> c (cacheMutex);
    cached = s;
    return s;
}

PluginStatus ModelLoader::statusLocked() const
{
    std::lock_guard<std::mutex> engineLock (engineMutex);
    engines.collect();
    PluginStatus s;
    s.hostRate = hostRate;
    s.modelPath = loadedPath;
    s.sha256 = loadedSha;
    s.message = loadError.isNotEmpty() ? loadError : loadWarning;
    s.failed = loadError.isNotEmpty();
    s.stateMessage = stateError;
    s.rejected = rejected;
    s.details = rejectedDetails.isNotEmpty() ? rejectedDetails : s.message;
    s.relinked = relinked.isNotEmpty();
    s.loading = loading.load() || rebuilding.load();
    if (! prepared)
        s.waitingPath = modelPath.isNotEmpty() ? modelPath : juce::String ("(the bundle's default model)");
    if (auto* e = engines.current())
    {
        const auto& info = e->info();
        s.loaded = true;
        s.modelName = info.name;
        s.author = info.author;
        s.description = info.description;
        s.latentSize = info.latentPath ? info.latentSize : 0;
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
