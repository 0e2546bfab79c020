// Loads models and builds engines off the audio thread, and hands them to the EngineSwitch.
//
// Everything that builds an engine (prepareToPlay, load(), a restored state, a structural
// parameter changed on a non-audio thread) does it on the calling thread, under one lock the
// audio thread never takes. A structural change made on the audio thread (automation) and a
// model chosen in the editor (requestLoad: the message thread must not freeze for a large file)
// are only requested there: the loader's own thread builds them. That thread sleeps on a
// semaphore, woken by such a request, by the EngineSwitch when it retires an engine (which
// the thread then deletes), or at destruction; it never wakes on a timer.
//
// The working model is never lost to a failed load: a file the user picks that cannot be
// played leaves the playing engine (and the model saved with the state) as it was, and the
// status says why in one line (PluginStatus::rejected; the full text in `details`). A state
// restored from a project is different: it names the model the project was made with, so a
// file that cannot be found (nor relinked by its sha256 from the bundle or the user models
// folder, BundledModels.h) is reported as failed and the dry signal passes, the path kept.
//
// The file behind the playing engine is kept in memory as read (ModelRunner::read): a change
// of buffer size, inference mode, mono mode or model method builds the next engine from it,
// without reading or hashing the file again.
#pragma once

#include "Engine.h"
#include "EngineSwitch.h"
#include "StateCodec.h"

#include <juce_audio_processors/juce_audio_processors.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <thread>

namespace nnplug {

class ModelLoader
{
public:
    // Reads the engine's configuration from `apvts` (Parameters.h) into `controls`, hands engines
    // to `engines`, and reports their latency through `processor`.
    ModelLoader (juce::AudioProcessor& processor, juce::AudioProcessorValueTreeState& apvts, EngineSwitch& engines,
                 Controls& controls);
    ~ModelLoader();   // joins the thread

    // prepareToPlay: the host's rate, largest block and channel count. Builds the engine at once
    // (audio is stopped) when those changed or none is playing.
    void prepare (double sampleRate, int samplesPerBlock, int channels);

    // Loads a model file now (empty: the bundle's default model). Before the first prepare()
    // the choice is kept and loaded there.
    void load (const juce::String& path);
    // The same on the loader's thread; returns at once (the status says "loading" meanwhile).
    void requestLoad (const juce::String& path);

    // A state was read (StateCodec.h): its model becomes current, and the engine is rebuilt.
    void restore (const ReadState& state);
    // A state was rejected whole: only the status says so.
    void rejectState (const juce::String& why);

    // A structural parameter changed. `later`: only a request, the loader's thread rebuilds
    // (the audio thread, and the editor, whose thread must not wait); otherwise rebuilt now.
    void structureChanged (bool later);

    // Blocks until no rebuild requested from the audio thread is pending or running: a host's
    // reset() and offline renders must see it done.
    void waitUntilIdle();
    // Blocks until the playing engine's worker thread (if any) computes nothing (Engine.h).
    void waitForInference();

    // The last load failed and no engine plays: the audio thread reads it.
    bool failedToLoad() const noexcept { return loadFailed.load (std::memory_order_acquire); }

    SavedModel savedModel() const;
    // wait = false (the editor): never blocks; while a load or rebuild runs, the last status
    // with `loading` set.
    PluginStatus status (bool wait = true) const;

private:
    juce::AudioProcessor& processor;
    juce::AudioProcessorValueTreeState& apvts;
    EngineSwitch& engines;
    Controls& controls;

    // Everything below is guarded by buildMutex (never taken by the audio thread).
    mutable std::mutex buildMutex;
    // Guards deleting retired engines (EngineSwitch::collect) against reading the current one.
    // Taken after buildMutex when both are; alone by the loader thread's collect, so that the
    // editor's status read (which only tries buildMutex) is not turned away by it.
    mutable std::mutex engineMutex;
    juce::String modelPath;          // as named by the state ("" = bundled default)
    juce::String expectedSha;        // sha256 saved with the state, checked at load
    juce::String loadedPath, loadedSha, loadError, loadWarning;
    juce::String stateError;         // the last state's complaint, "" when it was all used
    juce::String relinked;           // "" or what relinking a missing model found
    juce::String rejected, rejectedDetails;   // the last user load that failed while a model kept playing
    // The file behind loadedPath, as read (never run); null when none was read.
    std::shared_ptr<const LoadedModule> source;
    bool prepared = false;
    double hostRate = 44100;
    int maxBlock = 512;
    int hostChannels = 2;

    // The loader thread and the requests from the audio thread.
    std::thread thread;
    std::counting_semaphore<> wake { 0 };   // counting: several wakes may come before one acquire
    std::atomic<bool> stop { false }, requested { false }, loadFailed { false }, loading { false };
    std::atomic<bool> rebuilding { false };   // a requested rebuild is pending or running (status: loading)
    std::mutex queueMutex;                  // guards queued (never held while building)
    std::optional<juce::String> queued;     // a model path requestLoad() left for the thread
    std::mutex idleMutex;                   // guards building, for waitUntilIdle
    std::condition_variable idle;
    bool building = false;

    mutable std::mutex cacheMutex;          // guards cached
    mutable PluginStatus cached;
    PluginStatus statusLocked() const;      // needs buildMutex held

    void loop();
    bool takeRequest();                     // the loader thread: true when a request was pending
    std::optional<juce::String> takeQueued();
    EngineConfig config() const;            // needs buildMutex held
    // The rest need buildMutex held.
    void rebuild (bool audioStopped);
    void loadLocked (const juce::String& path);
    void relinkIfMissing();
    // Builds an engine for `path` from `source` when it holds that file, else from the disk
    // (then `source`, `sha` are the file read). Throws ModelError / std::exception.
    std::unique_ptr<Engine> build (const juce::String& path, std::shared_ptr<const LoadedModule>& src, juce::String& sha);
    void install (std::unique_ptr<Engine> engine, bool audioStopped);
};

} // namespace nnplug
