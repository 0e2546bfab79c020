// The JUCE AudioProcessor, thin: host calls become calls into the parameters (Parameters.h),
// the state codec (StateCodec.h), the model loader (ModelLoader.h) and the engine switch
// (plugin/). Parameter IDs are stable; see docs in README.
#pragma once

#include <optional>

#include "EngineSwitch.h"
#include "Meters.h"
#include "ModelLoader.h"
#include "Parameters.h"
#include "Presets.h"
#include "StateCodec.h"

#include <juce_audio_processors/juce_audio_processors.h>

class NnplugProcessor final : public juce::AudioProcessor,
                              private juce::AudioProcessorValueTreeState::Listener
{
public:
    using Status = nnplug::PluginStatus;

    NnplugProcessor();
    ~NnplugProcessor() override;

    void prepareToPlay (double sampleRate, int samplesPerBlock) override;
    void releaseResources() override {}
    void reset() override;
    bool isBusesLayoutSupported (const BusesLayout& layouts) const override;
    void processBlock (juce::AudioBuffer<float>& buffer, juce::MidiBuffer&) override { render (buffer, false); }
    using AudioProcessor::processBlock;
    // Bypassed: the input delayed by the reported latency (JUCE's default would not delay it).
    void processBlockBypassed (juce::AudioBuffer<float>& buffer, juce::MidiBuffer&) override { render (buffer, true); }
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
    void setCurrentProgram (int index) override;
    const juce::String getProgramName (int index) override;
    void changeProgramName (int, const juce::String&) override {}

    void getStateInformation (juce::MemoryBlock& destData) override;
    void setStateInformation (const void* data, int sizeInBytes) override;

    // Message thread (or any non-audio thread): load a model file now. An empty path means
    // the default model staged in the bundle.
    void loadModel (const juce::String& path) { loader.load (path); }
    // The same on the model loader's thread (the editor: a large file must not freeze the UI);
    // getStatus().loading is true until it is done.
    void requestModelLoad (const juce::String& path) { loader.requestLoad (path); }
    // Blocks until every requested load and rebuild is done (tests; hosts' reset and offline renders).
    void waitForLoader() { loader.waitUntilIdle(); }

    // wait = false: never blocks (the editor's timer), see ModelLoader::status.
    Status getStatus (bool wait = true) const { return loader.status (wait); }

    juce::AudioProcessorValueTreeState& parameters() { return apvts; }

    // ---- for the editor (PluginEditor.h) ----
    // Peaks of the input (before the model) and of the output, read at display rate.
    nnplug::PeakMeter inputMeter, outputMeter;
    // Writes the current state as a user preset (PresetLibrary::userPresetsDir()/<name>.vstpreset)
    // and lists it among the programs; false with the reason when it cannot be written.
    bool saveUserPreset (const juce::String& name, juce::String& whyNot);
    int findProgram (const juce::String& name) const;
    // The editor sets a structural parameter (buffer size, modes, method) to choice `index`: as a
    // host would, but the engine is rebuilt on the loader's thread, not the editor's.
    void setStructuralFromEditor (const juce::String& id, int index);
    // The latents the model's decode receives (after scale and bias), for the latent display.
    const nnplug::LatentMonitor& latentMonitor() const { return controls.latentView; }

private:
    nnplug::PresetLibrary programs { nnplug::PresetLibrary::scanned() };
    int currentProgram = 0;
    juce::AudioProcessorValueTreeState apvts;
    nnplug::Controls controls;
    nnplug::EngineSwitch engines;
    nnplug::ModelLoader loader;   // after engines: stopped before they go
    bool restoringState = false;
    // audio thread: the host's timeline position and length of the last block (render())
    std::optional<int64_t> lastPosition;
    int lastBlock = 0;
    bool wasPlaying = false;
    std::atomic<bool> structureFromEditor { false };   // set around setStructuralFromEditor's change

    void parameterChanged (const juce::String& id, float value) override;
    void render (juce::AudioBuffer<float>&, bool bypassed);

    JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR (NnplugProcessor)
};
