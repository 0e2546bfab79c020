#include "PluginEditor.h"

using namespace nnplug;

namespace {

void styleLabel (juce::Label& l, float size, juce::Colour colour, bool bold = false)
{
    l.setFont (juce::Font (size, bold ? juce::Font::bold : juce::Font::plain));
    l.setColour (juce::Label::textColourId, colour);
    l.setMinimumHorizontalScale (0.8f);
}

juce::String ms (double samples, double rate)
{
    const double value = 1000.0 * samples / (rate > 0 ? rate : 44100.0);
    return juce::String (value, value < 10 ? 2 : 1) + " ms";
}

} // namespace

NnplugEditor::NnplugEditor (NnplugProcessor& p) : AudioProcessorEditor (p), plugin (p)
{
    setLookAndFeel (&lookAndFeel);
    auto& apvts = plugin.parameters();

    // header
    styleLabel (title, 24.0f, look::text, true);
    styleLabel (byline, 13.0f, look::dim);
    styleLabel (descriptionText, 12.5f, look::dim);
    descriptionText.setJustificationType (juce::Justification::topLeft);
    styleLabel (rates, 12.5f, look::dim);
    rates.setJustificationType (juce::Justification::centredLeft);
    title.setComponentID ("modelName");
    descriptionText.setComponentID ("description");
    rates.setComponentID ("rates");
    light.setComponentID ("stateLight");
    light.onClick = [this] { showDetails(); };
    inMeter.setComponentID ("inputMeter");
    outMeter.setComponentID ("outputMeter");
    inMeter.setTooltip ("Input level (before the input gain)");
    outMeter.setTooltip ("Output level");
    aboutButton.setTooltip ("About nnplug");
    aboutButton.onClick = [] { juce::AlertWindow::showMessageBoxAsync (juce::MessageBoxIconType::NoIcon, "About nnplug", aboutText()); };
    for (juce::Component* c : { (juce::Component*) &title, (juce::Component*) &byline, (juce::Component*) &descriptionText,
                                (juce::Component*) &rates, (juce::Component*) &light, (juce::Component*) &inMeter,
                                (juce::Component*) &outMeter, (juce::Component*) &aboutButton })
        addAndMakeVisible (c);

    // browser row
    modelBrowser.setComponentID ("browser");
    modelBrowser.onChoose = [this] (const juce::String& path)
    {
        plugin.requestModelLoad (path);
        refresh();
    };
    addAndMakeVisible (modelBrowser);
    presetBox.setComponentID ("presets");
    presetBox.setTooltip ("Presets: the plugin's factory presets, then yours");
    presetBox.onChange = [this]
    {
        const int index = presetBox.getSelectedId() - 1;
        if (index >= 0)   // the current one too: choosing it again reverts to it
        {
            plugin.setCurrentProgram (index);
            refresh();
        }
    };
    addAndMakeVisible (presetBox);
    savePreset.setTooltip ("Save the current settings as a preset (.vstpreset in your VST3 presets folder)");
    savePreset.onClick = [this] { askPresetName(); };
    addAndMakeVisible (savePreset);
    styleLabel (message, 12.5f, look::dim);
    message.setComponentID ("message");
    message.setInterceptsMouseClicks (true, false);
    message.addMouseListener (this, false);
    addAndMakeVisible (message);

    // settings
    const std::array<std::pair<const char*, const char*>, 5> settingIds { {
        { ParamID::bufferSize, "Model buffer" }, { ParamID::inferenceMode, "Inference" },
        { ParamID::monoMode, "Mono model" }, { ParamID::onFailure, "On failure" }, { ParamID::modelMethod, "Method" } } };
    const char* settingTips[] = {
        "Samples per model call: a larger buffer costs latency and saves CPU (each choice shows its latency)",
        "Synchronous: the model runs in the audio callback. Worker thread: on its own thread, one buffer more latency, fewer dropouts",
        "A mono model on a stereo track: one stream per channel, or both channels mixed down",
        "When the model fails while playing: let the dry signal through, or go silent",
        "The model's path: Auto plays encode -> decode when the file has that pair (the latent controls act on it), forward otherwise" };
    for (size_t i = 0; i < choices.size(); ++i)
    {
        auto& c = choices[i];
        auto* param = dynamic_cast<juce::AudioParameterChoice*> (apvts.getParameter (settingIds[i].first));
        c.box.addItemList (param->choices, 1);
        c.box.setComponentID (settingIds[i].first);
        c.box.setTooltip (settingTips[i]);
        if (isStructural (settingIds[i].first))
        {
            // Not an attachment: the rebuild this starts must run on the loader's thread.
            const juce::String id = settingIds[i].first;
            c.box.onChange = [this, id, &box = c.box]
            {
                const int index = box.getSelectedId() - 1;
                if (index >= 0 && index != (int) plugin.parameters().getRawParameterValue (id)->load())
                {
                    plugin.setStructuralFromEditor (id, index);
                    refresh();
                }
            };
        }
        else
            c.attachment = std::make_unique<APVTS::ComboBoxAttachment> (apvts, settingIds[i].first, c.box);
        c.label.setText (settingIds[i].second, juce::dontSendNotification);
        styleLabel (c.label, 13.0f, look::dim);
        addAndMakeVisible (c.label);
        addAndMakeVisible (c.box);
    }

    const std::array<std::pair<const char*, const char*>, 3> gainIds { {
        { ParamID::inputGain, "Input" }, { ParamID::dryWet, "Mix" }, { ParamID::outputGain, "Output" } } };
    for (size_t i = 0; i < gains.size(); ++i)
    {
        auto& k = gains[i];
        k.slider.setComponentID (gainIds[i].first);
        k.slider.setTextBoxStyle (juce::Slider::TextBoxBelow, false, 70, 16);
        k.attachment = std::make_unique<APVTS::SliderAttachment> (apvts, gainIds[i].first, k.slider);
        k.slider.setColour (juce::Slider::rotarySliderFillColourId, look::text.withAlpha (0.75f));
        k.label.setText (gainIds[i].second, juce::dontSendNotification);
        k.label.setJustificationType (juce::Justification::centred);
        styleLabel (k.label, 12.5f, look::dim);
        addAndMakeVisible (k.label);
        addAndMakeVisible (k.slider);
    }
    gains[1].slider.setTextValueSuffix (" %");
    gains[0].slider.setTooltip ("Gain before the model");
    gains[1].slider.setTooltip ("Dry/wet: the dry path is delayed to line up with the model's output");
    gains[2].slider.setTooltip ("Gain after the model");

    for (int i = 0; i < (int) modelControls.size(); ++i)
    {
        auto& k = modelControls[(size_t) i];
        k.slider.setComponentID (ParamID::modelControl (i));
        k.slider.setTextBoxStyle (juce::Slider::TextBoxBelow, false, 60, 16);
        k.slider.setDoubleClickReturnValue (true, 0.5);
        k.slider.setNumDecimalPlacesToDisplay (2);
        k.attachment = std::make_unique<APVTS::SliderAttachment> (apvts, ParamID::modelControl (i), k.slider);
        // 0..1 with the model's default at 0.5: two decimals say enough
        k.slider.textFromValueFunction = [] (double v) { return juce::String (v, 2); };
        k.slider.updateText();
        k.label.setJustificationType (juce::Justification::centred);
        styleLabel (k.label, 12.5f, look::text);
        addChildComponent (k.label);
        addChildComponent (k.slider);
    }
    noControls.setText ("This model has no controls of its own.", juce::dontSendNotification);
    styleLabel (noControls, 12.5f, look::dim);
    noControls.setJustificationType (juce::Justification::centred);
    addChildComponent (noControls);
    styleLabel (facts, 12.5f, look::dim);
    facts.setFont (juce::Font (juce::Font::getDefaultMonospacedFontName(), 12.0f, juce::Font::plain));   // aligned columns
    facts.setJustificationType (juce::Justification::topLeft);
    facts.setComponentID ("facts");
    addChildComponent (facts);

    for (int i = 0; i < (int) latents.size(); ++i)
    {
        auto& row = latents[(size_t) i];
        row.label.setText (juce::String (i + 1), juce::dontSendNotification);
        styleLabel (row.label, 12.0f, look::dim);
        row.label.setJustificationType (juce::Justification::centredRight);
        row.scale.setComponentID (ParamID::latentScale (i));
        row.bias.setComponentID (ParamID::latentBias (i));
        for (auto* s : { &row.scale, &row.bias })
        {
            s->setColour (juce::Slider::trackColourId, look::latent);
            s->setPopupDisplayEnabled (true, true, this);
        }
        row.scale.setDoubleClickReturnValue (true, 1.0);
        row.bias.setDoubleClickReturnValue (true, 0.0);
        row.scale.setTooltip ("Latent " + juce::String (i + 1) + " scale (1: as encoded)");
        row.bias.setTooltip ("Latent " + juce::String (i + 1) + " bias (0: as encoded)");
        row.scaleAttachment = std::make_unique<APVTS::SliderAttachment> (apvts, ParamID::latentScale (i), row.scale);
        row.biasAttachment = std::make_unique<APVTS::SliderAttachment> (apvts, ParamID::latentBias (i), row.bias);
        addChildComponent (row.label);
        addChildComponent (row.scale);
        addChildComponent (row.bias);
    }

    latentView.setComponentID ("latentDisplay");
    latentView.setTooltip ("The latents the model's decoder receives, live (after scale and bias); coloured: the ones the controls reach");
    addChildComponent (latentView);

    // The sliders made their text boxes with the default look before they had a parent.
    sendLookAndFeelChange();
    setResizable (true, true);
    setResizeLimits (minWidth, minHeight, maxWidth, maxHeight);
    setSize (defaultWidth, defaultHeight);
    refreshPresets();
    refresh();
    startTimerHz (30);
}

NnplugEditor::~NnplugEditor()
{
    stopTimer();
    message.removeMouseListener (this);
    setLookAndFeel (nullptr);
}

juce::String NnplugEditor::aboutText()
{
    return juce::String ("nnplug ") + JucePlugin_VersionString
           + "\n\nPlays streaming neural audio models (TorchScript: nnplug exports, RAVE, nn~, Neutone) in real time,"
             " with the exact latency reported to the host.\n\n"
             "Models: the ones in the plugin, and your models folder:\n"
           + userModelsDir().getFullPathName()
           + "\n(NNPLUG_MODELS_DIR overrides it). Drop a model file on the window to load it.\n\n"
             "Built with JUCE and libtorch.";
}

juce::String NnplugEditor::stateReason() const
{
    if (status.loading) return "loading a model on the loader's thread";
    if (status.waitingPath.isNotEmpty()) return "loads when the host starts audio: " + status.waitingPath;
    if (status.failed || ! status.loaded) return status.message.isNotEmpty() ? status.message : juce::String ("no model loaded");
    return status.message;
}

void NnplugEditor::refresh()
{
    status = plugin.getStatus (false);
    const bool silence = plugin.parameters().getRawParameterValue (ParamID::onFailure)->load() > 0.5f;
    const auto state = playStateOf (status, silence);
    light.set (state, stateReason());

    const auto file = juce::File (status.modelPath).getFileNameWithoutExtension();
    title.setText (status.loaded ? status.modelName : status.waitingPath.isNotEmpty() ? juce::File (status.waitingPath).getFileNameWithoutExtension()
                                                   : file.isNotEmpty() ? file : juce::String ("No model"),
                   juce::dontSendNotification);
    juce::StringArray by;
    if (status.author.isNotEmpty()) by.add ("by " + status.author);
    if (status.loaded) by.add (status.format + " · " + status.method);
    if (! status.loaded && (state == PlayState::PassingDry || state == PlayState::Failed))
        by.add (state == PlayState::PassingDry ? "not playing: the input passes through unchanged"
                                               : "not playing: silent (On failure: Silence)");
    byline.setText (by.joinIntoString ("   ·   "), juce::dontSendNotification);
    byline.setColour (juce::Label::textColourId, status.loaded ? look::dim : look::bad.withAlpha (0.85f));
    descriptionText.setText (status.loaded ? status.description : juce::String(), juce::dontSendNotification);

    juce::String r;
    if (status.loaded)
    {
        r << juce::String (status.hostRate / 1000.0, 1) << " kHz";
        if (status.modelRate > 0 && std::abs (status.modelRate - status.hostRate) > 0.5)
            r << " (model " << juce::String (status.modelRate / 1000.0, 1) << " kHz, resampled)";
        r << "   ·   latency " << ms (status.latency, status.hostRate) << " (" << status.latency << " samples)";
    }
    rates.setText (r, juce::dontSendNotification);

    // One line: what the user must know now. Details on a click.
    juce::String line;
    juce::Colour colour = look::dim;
    if (status.loading) line = juce::String (juce::CharPointer_UTF8 ("loading\xe2\x80\xa6"));
    else if (status.rejected.isNotEmpty()) { line = status.rejected; colour = look::warn; }
    else if (status.failed) { line = status.message; colour = look::bad; }
    else if (status.relinked) { line = status.message; colour = look::accent; }
    else if (status.message.isNotEmpty()) { line = status.message; colour = look::warn; }
    else if (status.stateMessage.isNotEmpty()) { line = status.stateMessage; colour = look::warn; }
    else if (status.waitingPath.isNotEmpty()) line = "The model loads when the host starts audio.";
    else if (status.loaded)
    {
        // Where the file lives, in the browser's words.
        const auto f = juce::File (status.modelPath);
        const auto bundle = bundledModelsDir(), user = userModelsDir();
        line = bundle != juce::File() && f.isAChildOf (bundle) ? "In the plugin: " + f.getFileName()
             : user != juce::File() && f.isAChildOf (user) ? "My models: " + f.getRelativePathFrom (user)
             : status.modelPath;
    }
    message.setText (line.upToFirstOccurrenceOf ("\n", false, false), juce::dontSendNotification);
    message.setColour (juce::Label::textColourId, colour);
    message.setTooltip (status.details.isNotEmpty() ? status.details + "\n(click for details)" : line);

    modelBrowser.setCurrent (status.modelPath, status.loaded ? status.modelName : title.getText());

    // Only the model's own controls, named by it; only its latent dimensions.
    const int nControls = status.loaded ? juce::jmin (status.controls.size(), (int) modelControls.size()) : 0;
    for (int i = 0; i < (int) modelControls.size(); ++i)
    {
        auto& k = modelControls[(size_t) i];
        const bool on = i < nControls;
        if (on) k.label.setText (status.controls[i], juce::dontSendNotification);
        k.slider.setTooltip (on ? status.controls[i] + " (the model's control; double-click: its default)" : juce::String());
        k.label.setVisible (on);
        k.slider.setVisible (on);
    }
    noControls.setText (status.loaded ? "This model has no controls of its own."
                                      : state == PlayState::Loading ? ""
                                      : "No model is playing: its controls appear when one is.",
                        juce::dontSendNotification);
    noControls.setVisible (nControls == 0);
    const int nLatents = status.loaded ? juce::jmin (status.latentSize, (int) latents.size()) : 0;
    for (int i = 0; i < (int) latents.size(); ++i)
        for (juce::Component* c : { (juce::Component*) &latents[(size_t) i].label, (juce::Component*) &latents[(size_t) i].scale,
                                    (juce::Component*) &latents[(size_t) i].bias })
            c->setVisible (i < nLatents);
    latentView.setVisible (nLatents > 0);
    if (nControls != shownControls || nLatents != shownLatents || status.loaded != shownLoaded)
    {
        shownControls = nControls;
        shownLatents = nLatents;
        shownLoaded = status.loaded;
        resized();
        repaint();
    }
    juce::String f;
    if (status.loaded)
    {
        auto row = [&f] (const char* key, const juce::String& value) { f << juce::String (key).paddedRight (' ', 10) << value << "\n"; };
        row ("file", status.modelPath);
        row ("sha256", status.sha256.substring (0, 24) + juce::String (juce::CharPointer_UTF8 ("\xe2\x80\xa6")));
        row ("rate", (status.modelRate > 0 ? juce::String (status.modelRate, 0) + " Hz" : juce::String ("not stated: the host's"))
                         + ", ratio " + juce::String (status.ratio));
        row ("buffer", juce::String (status.bufferSize) + " samples, model delay " + juce::String (status.modelDelay) + " samples");
    }
    facts.setText (f, juce::dontSendNotification);
    updateBufferChoices();
}

void NnplugEditor::updateBufferChoices()
{
    // The latency each buffer choice gives: buffering grows by one model buffer per buffer of
    // N (two with the worker thread), at the host's rate; the model's delay stays.
    auto& box = choices[0].box;
    const auto& names = bufferSizeChoices();
    const bool worker = plugin.parameters().getRawParameterValue (ParamID::inferenceMode)->load() > 0.5f;
    for (int i = 0; i < names.size(); ++i)
    {
        juce::String text = names[i];
        if (status.loaded && status.bufferSize > 0 && status.ratio > 0)
        {
            const int n = chooseBufferSize (i == 0 ? 0 : names[i].getIntValue(), status.ratio);
            const double perSample = (worker ? 2.0 : 1.0) * (status.modelRate > 0 ? status.hostRate / status.modelRate : 1.0);
            const double latency = status.latency + perSample * (n - status.bufferSize);
            text = (i == 0 ? "Auto (" + juce::String (n) + ")" : names[i]) + "   " + ms (latency, status.hostRate);
        }
        if (box.getItemText (i) != text)
            box.changeItemText (i + 1, text);
    }
    // The combos without attachments follow their parameters (a host, a preset may change them);
    // the shown text is the selected item's old text until selected again (ComboBox compares them).
    for (auto& c : choices)
        if (isStructural (c.box.getComponentID()))
            c.box.setSelectedId ((int) plugin.parameters().getRawParameterValue (c.box.getComponentID())->load() + 1,
                                 juce::dontSendNotification);
}

void NnplugEditor::refreshPresets()
{
    presetBox.clear (juce::dontSendNotification);
    const int n = plugin.getNumPrograms();
    for (int i = 0; i < n; ++i)
        presetBox.addItem (plugin.getProgramName (i), i + 1);
    presetBox.setSelectedId (plugin.getCurrentProgram() + 1, juce::dontSendNotification);
}

void NnplugEditor::timerCallback()
{
    inMeter.push (plugin.inputMeter.take());
    outMeter.push (plugin.outputMeter.take());
    if (shownLatents > 0)
        latentView.push (plugin.latentMonitor(), shownLatents);
    if (++ticks % 4 == 0 || light.state() == PlayState::Loading)
        refresh();
}

void NnplugEditor::showDetails()
{
    juce::String text = describe (light.state()) + "\n\n";
    if (status.rejected.isNotEmpty())
        text << status.rejected << "\n\n" << status.details << "\n\n";
    else if (status.message.isNotEmpty())
        text << status.message << "\n\n";
    if (status.stateMessage.isNotEmpty())
        text << status.stateMessage << "\n\n";
    if (status.loaded)
        text << "File: " << status.modelPath << "\nsha256: " << status.sha256 << "\nBuffer " << status.bufferSize
             << " samples, ratio " << status.ratio << ", model delay " << status.modelDelay << " samples";
    juce::AlertWindow::showMessageBoxAsync (juce::MessageBoxIconType::InfoIcon, "Model status", text.trim());
}

void NnplugEditor::askPresetName()
{
    auto* w = new juce::AlertWindow ("Save preset", "A name for the current settings:", juce::MessageBoxIconType::NoIcon, this);
    w->addTextEditor ("name", status.modelName.isNotEmpty() ? status.modelName + " 1" : "My preset");
    w->addButton ("Save", 1, juce::KeyPress (juce::KeyPress::returnKey));
    w->addButton ("Cancel", 0, juce::KeyPress (juce::KeyPress::escapeKey));
    // The host may close the editor while the dialog is open: the callback checks it still exists.
    juce::Component::SafePointer<NnplugEditor> safe (this);
    w->enterModalState (true, juce::ModalCallbackFunction::create ([safe, w] (int result)
    {
        if (safe == nullptr || result != 1)
            return;
        juce::String why;
        if (! safe->plugin.saveUserPreset (w->getTextEditorContents ("name"), why))
            juce::AlertWindow::showMessageBoxAsync (juce::MessageBoxIconType::WarningIcon, "Save preset", why);
        safe->refreshPresets();
    }), true);
}

bool NnplugEditor::isInterestedInFileDrag (const juce::StringArray& files)
{
    return files.size() == 1 && ModelBrowser::isModelFile (files[0]);
}

void NnplugEditor::filesDropped (const juce::StringArray& files, int, int)
{
    dragging = false;
    repaint();
    if (isInterestedInFileDrag (files))
        modelBrowser.choose (juce::File (files[0]));
}

void NnplugEditor::paint (juce::Graphics& g)
{
    g.fillAll (look::background);
    look::drawPanel (g, headerArea.toFloat(), {});
    look::drawPanel (g, settingsArea.toFloat(), "Engine");
    look::drawPanel (g, gainsArea.toFloat(), "Levels");
    look::drawPanel (g, controlsArea.toFloat(), "Model controls", look::accent);
    if (! factsArea.isEmpty())
        look::drawPanel (g, factsArea.toFloat(), "Model file");
    if (shownLatents > 0)
    {
        look::drawPanel (g, latentArea.toFloat(),
                         "Latent space  " + juce::String (status.latentSize) + " dims, " + juce::String (shownLatents) + " with controls",
                         look::latent);
        // column headings over the first row's scale and bias sliders of each column
        g.setColour (look::dim);
        g.setFont (juce::Font (11.0f));
        const int rows = (shownLatents + 1) / 2;
        for (int i = 0; i < shownLatents; i += rows)
        {
            const auto& row = latents[(size_t) i];
            g.drawText ("scale", row.scale.getBounds().translated (0, -16).withHeight (14), juce::Justification::centred);
            g.drawText ("bias", row.bias.getBounds().translated (0, -16).withHeight (14), juce::Justification::centred);
        }
    }
}

void NnplugEditor::paintOverChildren (juce::Graphics& g)
{
    if (! dragging)
        return;
    g.setColour (look::background.withAlpha (0.78f));
    g.fillRect (getLocalBounds());
    g.setColour (look::accent);
    g.drawRoundedRectangle (getLocalBounds().toFloat().reduced (6.0f), 12.0f, 2.0f);
    auto box = getLocalBounds().withSizeKeepingCentre (juce::jmin (460, getWidth() - 40), 96).toFloat();
    g.setColour (look::panel);
    g.fillRoundedRectangle (box, 10.0f);
    g.setColour (look::accent);
    g.drawRoundedRectangle (box, 10.0f, 1.5f);
    g.setFont (juce::Font (20.0f, juce::Font::bold));
    g.drawText ("Drop to load", box.removeFromTop (52.0f).withTrimmedTop (8.0f), juce::Justification::centred);
    g.setColour (look::text);
    g.setFont (juce::Font (14.0f));
    g.drawText (draggedName, box.withTrimmedBottom (14.0f).reduced (12.0f, 0), juce::Justification::centred, true);
}

void NnplugEditor::resized()
{
    auto r = getLocalBounds().reduced (12);

    // header: name, byline, description | state, rates | meters
    headerArea = r.removeFromTop (96);
    {
        auto h = headerArea.reduced (14, 10);
        auto meters = h.removeFromRight (56);
        inMeter.setBounds (meters.removeFromLeft (28));
        outMeter.setBounds (meters);
        h.removeFromRight (12);
        auto right = h.removeFromRight (juce::jmin (330, h.getWidth() / 2));
        auto top = right.removeFromTop (26);
        aboutButton.setBounds (top.removeFromRight (26).reduced (0, 1));
        light.setBounds (top);
        rates.setBounds (right.removeFromTop (40));
        title.setBounds (h.removeFromTop (30));
        byline.setBounds (h.removeFromTop (18));
        descriptionText.setBounds (h);
    }
    r.removeFromTop (10);
    auto row = r.removeFromTop (30);
    savePreset.setBounds (row.removeFromRight (58));
    row.removeFromRight (6);
    presetBox.setBounds (row.removeFromRight (juce::jmin (220, row.getWidth() / 3)));
    row.removeFromRight (12);
    modelBrowser.setBounds (row);
    r.removeFromTop (4);
    message.setBounds (r.removeFromTop (22));
    r.removeFromTop (6);

    // body: engine settings and levels on the left; the model's controls and latents on the right
    auto left = r.removeFromLeft (juce::jmin (300, r.getWidth() * 2 / 5));
    r.removeFromLeft (10);
    gainsArea = left.removeFromBottom (juce::jmin (150, left.getHeight() / 2));
    left.removeFromBottom (10);
    settingsArea = left;
    {
        auto s = settingsArea.reduced (12, 0);
        s.removeFromTop (28);
        const int rowH = juce::jlimit (26, 40, (s.getHeight() - 8) / (int) choices.size());
        for (auto& c : choices)
        {
            auto line = s.removeFromTop (rowH).withSizeKeepingCentre (s.getWidth(), 26);
            c.label.setBounds (line.removeFromLeft (96));
            c.box.setBounds (line);
        }
    }
    {
        auto gArea = gainsArea.reduced (8, 0);
        gArea.removeFromTop (24);
        gArea.removeFromBottom (6);
        const int w = gArea.getWidth() / (int) gains.size();
        for (auto& k : gains)
        {
            auto cell = gArea.removeFromLeft (w);
            k.label.setBounds (cell.removeFromTop (16));
            k.slider.setBounds (cell);
        }
    }

    // The right column, top to bottom: the model's controls (a short note when it has none),
    // its latents, and its file's facts in the room left (given to the others when too little).
    const int perRowK = juce::jmax (1, juce::jmin (4, shownControls));
    const int controlsH = shownControls > 0 ? 44 + ((shownControls + perRowK - 1) / perRowK) * 130 : 64;
    const int rows = (shownLatents + 1) / 2;
    const int latentH = shownLatents > 0 ? 48 + 64 + rows * 34 : 0;
    const int gap = 10;
    int factsH = status.loaded ? r.getHeight() - controlsH - (latentH > 0 ? latentH + gap : 0) - gap : 0;
    if (factsH < 96)
        factsH = 0;
    factsArea = factsH > 0 ? r.removeFromBottom (factsH) : juce::Rectangle<int>();
    if (factsH > 0)
    {
        r.removeFromBottom (gap);
        facts.setBounds (factsArea.reduced (14, 0).withTrimmedTop (30).withTrimmedBottom (8));
    }
    facts.setVisible (factsH > 0);
    latentArea = {};
    if (shownLatents > 0)
    {
        latentArea = r.removeFromBottom (shownControls > 0 || factsH > 0 ? juce::jmin (latentH, r.getHeight() - 64 - gap)
                                                                        : r.getHeight() - 64 - gap);
        r.removeFromBottom (gap);
        auto l = latentArea.reduced (12, 0);
        l.removeFromTop (28);
        latentView.setBounds (l.removeFromTop (52));
        l.removeFromTop (18);   // column headings
        const int colW = l.getWidth() / 2;
        const int rowH = juce::jlimit (26, 40, l.getHeight() / rows);
        for (int i = 0; i < shownLatents; ++i)
        {
            auto cell = juce::Rectangle<int> (l.getX() + (i / rows) * colW, l.getY() + (i % rows) * rowH, colW - 10, 24);
            auto& row2 = latents[(size_t) i];
            row2.label.setBounds (cell.removeFromLeft (22));
            cell.removeFromLeft (6);
            row2.scale.setBounds (cell.removeFromLeft (cell.getWidth() / 2).reduced (2, 0));
            row2.bias.setBounds (cell.reduced (2, 0));
        }
    }
    controlsArea = r;
    {
        auto c = controlsArea.reduced (10, 0);
        c.removeFromTop (28);
        c.removeFromBottom (8);
        noControls.setBounds (c);
        if (shownControls > 0)
        {
            const int perRow = juce::jmin (4, shownControls);
            const int rowsN = (shownControls + perRow - 1) / perRow;
            const int cellW = c.getWidth() / perRow;
            const int cellH = juce::jmin (140, c.getHeight() / rowsN);
            const int top = c.getY() + (c.getHeight() - rowsN * cellH) / 2;   // the knobs centred in their panel
            for (int i = 0; i < shownControls; ++i)
            {
                auto cell = juce::Rectangle<int> (c.getX() + (i % perRow) * cellW, top + (i / perRow) * cellH, cellW, cellH).reduced (4);
                auto& k = modelControls[(size_t) i];
                k.label.setBounds (cell.removeFromTop (18));
                k.slider.setBounds (cell);
            }
        }
    }
}
