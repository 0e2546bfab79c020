// The editor: what is loaded and how it runs (model, rates, ratio, buffer, latency, status
// or error), a button to load a model file, and every parameter.
#pragma once

#include "PluginProcessor.h"

#include <juce_audio_processors/juce_audio_processors.h>
#include <juce_gui_basics/juce_gui_basics.h>

class NnplugEditor final : public juce::AudioProcessorEditor, private juce::Timer
{
public:
    explicit NnplugEditor (NnplugProcessor&);
    ~NnplugEditor() override;

    void paint (juce::Graphics&) override;
    void resized() override;

private:
    NnplugProcessor& plugin;   // not "processor": AudioProcessorEditor has one
    juce::Label info;
    juce::TextButton loadButton { "Load model..." };
    std::unique_ptr<juce::FileChooser> chooser;
    juce::GenericAudioProcessorEditor params;

    void timerCallback() override;
};
