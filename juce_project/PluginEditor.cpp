#include "PluginEditor.h"

NnplugEditor::NnplugEditor (NnplugProcessor& p)
    : AudioProcessorEditor (p), plugin (p), params (p)
{
    info.setJustificationType (juce::Justification::topLeft);
    info.setFont (juce::Font (14.0f));
    addAndMakeVisible (info);

    loadButton.onClick = [this]
    {
        chooser = std::make_unique<juce::FileChooser> ("Load a TorchScript model", juce::File(), "*.ts;*.pt");
        chooser->launchAsync (juce::FileBrowserComponent::openMode | juce::FileBrowserComponent::canSelectFiles,
                              [this] (const juce::FileChooser& fc)
                              {
                                  const auto f = fc.getResult();
                                  if (f.existsAsFile())
                                      plugin.loadModel (f.getFullPathName());
                                  timerCallback();
                              });
    };
    addAndMakeVisible (loadButton);
    addAndMakeVisible (params);

    setSize (560, 640);
    timerCallback();
    startTimerHz (4);
}

NnplugEditor::~NnplugEditor()
{
    stopTimer();
}

void NnplugEditor::timerCallback()
{
    const auto s = plugin.getStatus();
    juce::String t;
    if (s.loaded)
    {
        t << "Model: " << s.modelName << " (" << s.format << ", " << s.method << ")\n"
          << "Model rate: " << (s.modelRate > 0 ? juce::String (s.modelRate, 0) + " Hz" : juce::String ("unknown"))
          << "   host rate: " << juce::String (s.hostRate, 0) << " Hz\n"
          << "Ratio: " << s.ratio << "   buffer N: " << s.bufferSize << "   model delay: " << s.modelDelay << "\n"
          << "Latency: " << s.latency << " samples (" << juce::String (1000.0 * s.latency / s.hostRate, 1) << " ms)\n";
    }
    else
    {
        t << "No model loaded" << (s.modelPath.isNotEmpty() ? " (" + s.modelPath + ")" : juce::String()) << "\n";
    }
    t << (s.failed ? "ERROR: " : "Status: ") << (s.message.isNotEmpty() ? s.message : juce::String ("ok"));
    if (s.stateMessage.isNotEmpty())
        t << "\n" << s.stateMessage;
    info.setText (t, juce::dontSendNotification);
    info.setColour (juce::Label::textColourId, s.failed ? juce::Colours::orangered : juce::Colours::white);
}

void NnplugEditor::paint (juce::Graphics& g)
{
    g.fillAll (getLookAndFeel().findColour (juce::ResizableWindow::backgroundColourId));
}

void NnplugEditor::resized()
{
    auto r = getLocalBounds().reduced (8);
    auto top = r.removeFromTop (110);
    loadButton.setBounds (top.removeFromRight (130).removeFromTop (28));
    info.setBounds (top);
    params.setBounds (r);
}
