// The editor. From top to bottom: a header (the model's name, author and description, the
// rates, the latency, a state light with the reason on hover or click, input and output
// meters), the model browser (ModelBrowser.h) beside the preset menu, one line saying what went
// wrong or was relinked, then the settings that set latency and behaviour (model buffer with
// the latency each choice gives, inference mode, mono mode, on failure, model method), the
// gains, the model's own controls (as many as it has, named by it), the latent space (a live
// display of what decode receives, and scale/bias for as many dimensions as it has, up to 8;
// hidden without an encode -> decode path), and the model file's facts when there is room.
// A model file dropped anywhere on the window is loaded. Loads go to the loader's thread: the
// window never waits for a file (and reads the status without blocking).
#pragma once

#include "EditorLook.h"
#include "EditorWidgets.h"
#include "ModelBrowser.h"
#include "PluginProcessor.h"

#include <juce_audio_processors/juce_audio_processors.h>
#include <juce_gui_basics/juce_gui_basics.h>

class NnplugEditor final : public juce::AudioProcessorEditor,
                           public juce::FileDragAndDropTarget,
                           private juce::Timer
{
public:
    explicit NnplugEditor (NnplugProcessor&);
    ~NnplugEditor() override;

    void paint (juce::Graphics&) override;
    void paintOverChildren (juce::Graphics&) override;
    void resized() override;
    void mouseUp (const juce::MouseEvent& e) override { if (e.eventComponent == &message) showDetails(); }

    bool isInterestedInFileDrag (const juce::StringArray& files) override;
    void fileDragEnter (const juce::StringArray& files, int, int) override
    {
        dragging = true;
        draggedName = juce::File (files[0]).getFileName();
        repaint();
    }
    void fileDragExit (const juce::StringArray&) override { dragging = false; repaint(); }
    void filesDropped (const juce::StringArray& files, int x, int y) override;

    // Reads the processor's status and meters now (the timer does it at display rate).
    void refresh();
    void tick() { timerCallback(); }   // one display frame now (meters, status)
    void refreshPresets();
    nnplug::ModelBrowser& browser() { return modelBrowser; }
    nnplug::PlayState playState() const { return light.state(); }
    juce::String messageLine() const { return message.getText(); }
    static juce::String aboutText();

    static constexpr int defaultWidth = 860, defaultHeight = 600;
    static constexpr int minWidth = 720, minHeight = 520, maxWidth = 1600, maxHeight = 1200;

private:
    using APVTS = juce::AudioProcessorValueTreeState;
    NnplugProcessor& plugin;   // not "processor": AudioProcessorEditor has one
    nnplug::look::LookAndFeel lookAndFeel;
    juce::TooltipWindow tooltips { this, 600 };
    nnplug::PluginStatus status;

    // header
    juce::Label title, byline, descriptionText, rates;
    nnplug::StateLight light;
    nnplug::LevelMeter inMeter { "IN" }, outMeter { "OUT" };
    juce::TextButton aboutButton { "?" };
    // browser row
    nnplug::ModelBrowser modelBrowser;
    juce::ComboBox presetBox;
    juce::TextButton savePreset { "Save" };
    juce::Label message;
    // settings
    struct Choice
    {
        juce::Label label;
        juce::ComboBox box;
        std::unique_ptr<APVTS::ComboBoxAttachment> attachment;
    };
    std::array<Choice, 5> choices;   // buffer, inference, mono, on failure, method
    struct Knob
    {
        juce::Label label;
        juce::Slider slider { juce::Slider::RotaryHorizontalVerticalDrag, juce::Slider::TextBoxBelow };
        std::unique_ptr<APVTS::SliderAttachment> attachment;
    };
    std::array<Knob, 3> gains;                 // input, mix, output
    std::array<Knob, 8> modelControls;
    struct LatentRow
    {
        juce::Label label;
        juce::Slider scale { juce::Slider::LinearHorizontal, juce::Slider::NoTextBox };
        juce::Slider bias { juce::Slider::LinearHorizontal, juce::Slider::NoTextBox };
        std::unique_ptr<APVTS::SliderAttachment> scaleAttachment, biasAttachment;
    };
    std::array<LatentRow, 8> latents;
    nnplug::LatentDisplay latentView;
    juce::Label noControls;
    juce::Label facts;   // the model's numbers, when the latents leave room for them
    int shownControls = 0, shownLatents = 0;
    bool shownLoaded = false;   // the layout was made for these three
    bool dragging = false;
    juce::String draggedName;
    int ticks = 0;
    juce::Rectangle<int> headerArea, settingsArea, gainsArea, controlsArea, latentArea, factsArea;
    juce::ResizableCornerComponent* corner = nullptr;

    void timerCallback() override;
    void showDetails();
    void askPresetName();
    void updateBufferChoices();
    juce::String stateReason() const;
};
