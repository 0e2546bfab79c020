// The JUCE AudioProcessor: parameters, state, model loading, and the audio callback, which
// hands everything to the engine (plugin/). Parameter IDs are stable; see docs in README.
#pragma once

#include "Engine.h"
#include "EngineSwitch.h"
#include "Presets.h"

#include <juce_audio_processors/juce_audio_processors.h>
#include <juce_cryptography/juce_cryptography.h>

#include <atomic>
#include <mutex>
#include <semaphore>
#include <thread>

namespace ParamID {
inline constexpr const char* inputGain = "input_gain";
inline constexpr const char* outputGain = "output_gain";
inline constexpr const char* dryWet = "dry_wet";
inline constexpr const char* bufferSize = "buffer_size";
inline constexpr const char* inferenceMode = "inference_mode";
inline constexpr const char* onFailure = "on_failure";
inline constexpr const char* monoMode = "mono_mode";
inline juce::String latentScale (int i) { return "latent_scale_" + juce::String (i + 1); }
inline juce::String latentBias (int i) { return "latent_bias_" + juce::String (i + 1); }
} // namespace ParamID

class NnplugProcessor final : public juce::AudioProcessor,
                              private juce::AudioProcessorValueTreeState::Listener
{
public:
    NnplugProcessor();
    ~NnplugProcessor() override;

    static juce::AudioProcessorValueTreeState::ParameterLayout createLayout();
    static const juce::StringArray& bufferSizeChoices();

    void prepareToPlay (double sampleRate, int samplesPerBlock) override;
    void releaseResources() override;
    void reset() override;
    bool isBusesLayoutSupported (const BusesLayout& layouts) const override;
    void processBlock (juce::AudioBuffer<float>&, juce::MidiBuffer&) override;
    using AudioProcessor::processBlock;
    // Bypassed: the input delayed by the reported latency (JUCE's default would not delay it).
    void processBlockBypassed (juce::AudioBuffer<float>&, juce::MidiBuffer&) override;
    using AudioProcessor::processBlockBypassed;

    juce::AudioProcessorEditor* createEditor() override;
    bool hasEditor() const override { return true; }

    const juce::String getName() const override { return "nnplug"; }
    bool acceptsMidi() const override { return false; }
    bool producesMidi() const override { return false; }
    bool isMidiEffect() const override { return false; }
    double getTailLengthSeconds() const override;

    // Programs: the bundle's factory presets, then the user folder's (juce_project/Presets.h).
    // Selecting one restores its state, as a host loading the .vstpreset would.
    int getNumPrograms() override { return juce::jmax (1, programs.size()); }
    int getCurrentProgram() override { return currentProgram; }
    void setCurrentProgram (int index) override
    {
        const auto state = programs.load (index);
        if (state.isEmpty())
            return;
        currentProgram = index;
        setStateInformation (state.getData(), (int) state.getSize());
    }
    const juce::String getProgramName (int index) override
    {
        auto* p = programs.get (index);
        return p != nullptr ? p->name : juce::String();
    }
    void changeProgramName (int, const juce::String&) override {}

    void getStateInformation (juce::MemoryBlock& destData) override;
    void setStateInformation (const void* data, int sizeInBytes) override;

    // Message thread (or any non-audio thread): load a model file now. An empty path means
    // the default model staged in the bundle.
    void loadModel (const juce::String& path);

    struct Status
    {
        juce::String modelName, modelPath, sha256, format, method;
        double modelRate = 0, hostRate = 0;
        int ratio = 0, bufferSize = 0, latency = 0, modelDelay = 0;
        bool loaded = false, failed = false;
        juce::String message;   // error or warning; empty when all is well
        juce::String stateMessage;   // why the last state given to setStateInformation was (partly) ignored
    };
    Status getStatus() const;

    juce::AudioProcessorValueTreeState& parameters() { return apvts; }

    // The directory holding staged models (Contents/Resources/models), if any.
    static juce::File bundledModelsDir();

private:
    nnplug::PresetLibrary programs { nnplug::PresetLibrary::scanned() };
    int currentProgram = 0;
    juce::AudioProcessorValueTreeState apvts;
    nnplug::Controls controls;
    nnplug::EngineSwitch engines;

    // Everything below is guarded by buildMutex (never taken by the audio thread).
    mutable std::mutex buildMutex;
    juce::String modelPath;          // as named by the state ("" = bundled default)
    juce::String expectedSha;        // sha256 saved with the state, checked at load
    juce::String loadedPath, loadedSha, loadError, loadWarning;
    juce::String stateError;         // the last setStateInformation's complaint, "" when it was all used
    bool prepared = false;
    double hostRate = 44100;
    int maxBlock = 512;
    int hostChannels = 2;

    // Structural changes asked for on the audio thread are built here instead.
    std::thread loader;
    std::counting_semaphore<> loaderSem { 0 };   // counting: several requests may come before one wake
    std::atomic<bool> loaderStop { false }, rebuildRequested { false }, building { false };
    std::atomic<bool> loadFailed { false };
    bool restoringState = false;

    void parameterChanged (const juce::String& id, float value) override;
    void updateControls();
    nnplug::EngineConfig currentConfig() const;
    void rebuild (bool audioStopped);   // needs buildMutex held
    void loaderLoop();
    juce::String resolveModelPath (juce::String& whyNot) const;
    void render (juce::AudioBuffer<float>&, bool bypassed);

    JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR (NnplugProcessor)
};
