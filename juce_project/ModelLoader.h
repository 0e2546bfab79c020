// Loads models and builds engines off the audio thread, and hands them to the EngineSwitch.
//
// Everything that builds an engine (prepareToPlay, a model chosen in the editor, a restored
// state, a structural parameter changed on a non-audio thread) does it on the calling thread,
// under one lock the audio thread never takes. A structural change made on the audio thread
// (automation) is only requested there: the loader's own thread builds it. That thread sleeps
// on a semaphore, woken by such a request, by the EngineSwitch when it retires an engine (which
// the thread then deletes), or at destruction; it never wakes on a timer.
#pragma once

#include "Engine.h"
#include "EngineSwitch.h"
#include "StateCodec.h"

#include <juce_audio_processors/juce_audio_processors.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
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

    // Loads a model file now (empty: the bundle's default model).
    void load (const juce::String& path);

    // A state was read (StateCodec.h): its model becomes current, and the engine is rebuilt.
    void restore (const ReadState& state);
    // A state was rejected whole: only the status says so.
    void rejectState (const juce::String& why);

    // A structural parameter changed. On the audio thread only a request (never blocks);
    // elsewhere the engine is rebuilt now.
    void structureChanged (bool onAudioThread);

    // Blocks until no rebuild requested from the audio thread is pending or running: a host's
    // reset() and offline renders must see it done.
    void waitUntilIdle();
    // Blocks until the playing engine's worker thread (if any) computes nothing (Engine.h).
    void waitForInference();

    // The last load failed (no engine plays): the audio thread reads it.
    bool failedToLoad() const noexcept { return loadFailed.load (std::memory_order_acquire); }

    SavedModel savedModel() const;
    PluginStatus status() const;

private:
    juce::AudioProcessor& processor;
    juce::AudioProcessorValueTreeState& apvts;
    EngineSwitch& engines;
    Controls& controls;

    // Everything below is guarded by buildMutex (never taken by the audio thread).
    mutable std::mutex buildMutex;
    juce::String modelPath;          // as named by the state ("" = bundled default)
    juce::String expectedSha;        // sha256 saved with the state, checked at load
    juce::String loadedPath, loadedSha, loadError, loadWarning;
    juce::String stateError;         // the last state's complaint, "" when it was all used
    bool prepared = false;
    double hostRate = 44100;
    int maxBlock = 512;
    int hostChannels = 2;

    // The loader thread and the requests from the audio thread.
    std::thread thread;
    std::counting_semaphore<> wake { 0 };   // counting: several wakes may come before one acquire
    std::atomic<bool> stop { false }, requested { false }, loadFailed { false };
    std::mutex idleMutex;                   // guards building, for waitUntilIdle
    std::condition_variable idle;
    bool building = false;

    void loop();
    bool takeRequest();                     // the loader thread: true when a request was pending
    EngineConfig config() const;            // needs buildMutex held
    void rebuild (bool audioStopped);       // needs buildMutex held
};

} // namespace nnplug
