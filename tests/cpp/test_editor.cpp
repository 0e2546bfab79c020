// The editor (juce_project/PluginEditor.h) created with a real processor, headless: the
// bundle's default model (the binary's folder links the built VST3's Resources, so the plugin
// finds its staged models and factory presets as in a host), a user models folder with real
// model files (NNPLUG_MODELS_DIR), and the states a musician meets: playing, a model chosen
// from the menu, a file dropped, a failed load, loading, a failed and a relinked project model,
// resizing, saving a preset. Each state is checked on the component tree and the processor,
// and drawn to a PNG under the build folder (NNPLUG_SCREENSHOTS; docs/ shows some of them).
#include "PluginEditor.h"
#include "processor_support.h"

#include <juce_cryptography/juce_cryptography.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

namespace {

const juce::String models = NNPLUG_TEST_MODELS;
const juce::String contractFiles = NNPLUG_CONTRACT_FILES;
juce::File scratch;   // the user models, settings and presets folders of this run

template <typename T = juce::Component>
T* find (juce::Component& root, const juce::String& id)
{
    if (root.getComponentID() == id)
        return dynamic_cast<T*> (&root);
    for (auto* c : root.getChildren())
        if (auto* found = find<T> (*c, id))
            return found;
    return nullptr;
}

juce::String textOf (juce::Component& root, const juce::String& id)
{
    auto* l = find<juce::Label> (root, id);
    return l != nullptr ? l->getText() : juce::String ("<no " + id + ">");
}

bool shown (juce::Component& root, const juce::String& id)
{
    auto* c = find (root, id);
    return c != nullptr && c->isVisible();
}

void snapshot (juce::Component& c, const juce::String& name)
{
    const auto dir = juce::File (NNPLUG_SCREENSHOTS);
    dir.createDirectory();
    const auto image = c.createComponentSnapshot (c.getLocalBounds(), true, 1.0f);
    const auto file = dir.getChildFile (name + ".png");
    file.deleteFile();
    juce::FileOutputStream out (file);
    ASSERT_TRUE (out.openedOk());
    ASSERT_TRUE (juce::PNGImageFormat().writeImageToStream (image, out));
}

void setParam (NnplugProcessor& p, const juce::String& id, float plain)
{
    auto* param = p.parameters().getParameter (id);
    param->setValueNotifyingHost (param->convertTo0to1 (plain));
}

std::unique_ptr<NnplugProcessor> prepared()
{
    auto p = std::make_unique<NnplugProcessor>();
    p->setRateAndBufferSizeDetails (44100, 512);
    p->prepareToPlay (44100, 512);
    return p;
}

// A 220 Hz tone at -12 dBFS through the processor; then the editor reads its meters.
void play (NnplugProcessor& p, int blocks)
{
    juce::MidiBuffer midi;
    for (int b = 0; b < blocks; ++b)
    {
        juce::AudioBuffer<float> buf (2, 512);
        for (int ch = 0; ch < 2; ++ch)
            for (int t = 0; t < 512; ++t)
                buf.setSample (ch, t, 0.25f * (float) std::sin (2 * juce::MathConstants<double>::pi * 220 * (b * 512 + t) / 44100));
        p.processBlock (buf, midi);
    }
}

// Runs the menu item whose text starts with `text` (the action the click would run).
bool runMenuItem (const juce::PopupMenu& menu, const juce::String& text)
{
    for (juce::PopupMenu::MenuItemIterator it (menu, true); it.next();)
    {
        auto& item = it.getItem();
        if (item.text.startsWith (text) && item.action)
        {
            item.action();
            return true;
        }
    }
    return false;
}

juce::StringArray menuTexts (const juce::PopupMenu& menu)
{
    juce::StringArray out;
    for (juce::PopupMenu::MenuItemIterator it (menu, true); it.next();)
        out.add (it.getItem().text);
    return out;
}

const juce::File bundleManifest()
{
    return juce::File::getSpecialLocation (juce::File::currentExecutableFile).getParentDirectory().getChildFile ("Resources/models/manifest.json");
}

} // namespace

TEST (Editor, PlaysTheBundledModelWithItsFactsAndSettingsInView)
{
    ASSERT_TRUE (bundleManifest().existsAsFile()) << "no staged model beside the test binary: build with `nnplug build` (it stages the default model)";
    auto p = prepared();
    NnplugEditor ed (*p);
    play (*p, 40);
    ed.tick();
    ed.refresh();
    const auto s = p->getStatus();
    ASSERT_TRUE (s.loaded) << s.message;
    EXPECT_EQ (ed.playState(), nnplug::PlayState::Playing);
    EXPECT_EQ (textOf (ed, "modelName"), "nnplug-default");
    EXPECT_TRUE (textOf (ed, "description").contains ("autoencoder")) << textOf (ed, "description");
    EXPECT_TRUE (textOf (ed, "rates").contains ("44.1 kHz")) << textOf (ed, "rates");
    EXPECT_TRUE (textOf (ed, "rates").contains (juce::String (s.latency) + " samples")) << textOf (ed, "rates");
    // the model's 16 latents: the 8 pairs the plugin has, all shown; no model controls
    ASSERT_EQ (s.latentSize, 16);
    for (int i = 0; i < 8; ++i)
    {
        EXPECT_TRUE (shown (ed, ParamID::latentScale (i)));
        EXPECT_TRUE (shown (ed, ParamID::latentBias (i)));
    }
    EXPECT_FALSE (shown (ed, ParamID::modelControl (0)));
    // the buffer menu gives each choice's latency; the selected one is the latency reported
    auto* buffer = find<juce::ComboBox> (ed, ParamID::bufferSize);
    ASSERT_NE (buffer, nullptr);
    const auto selected = buffer->getItemText (buffer->getSelectedItemIndex());
    EXPECT_TRUE (selected.contains (juce::String (1000.0 * p->getLatencySamples() / 44100.0, 1) + " ms")) << selected;
    EXPECT_TRUE (buffer->getItemText (2).startsWith ("128")) << buffer->getItemText (2);
    for (const char* id : { ParamID::inferenceMode, ParamID::monoMode, ParamID::onFailure, ParamID::modelMethod })
        EXPECT_TRUE (shown (ed, id)) << id;
    // meters: the tone came in and out
    EXPECT_GT (find<nnplug::LevelMeter> (ed, "inputMeter")->level(), 0.2f);
    EXPECT_GT (find<nnplug::LevelMeter> (ed, "outputMeter")->level(), 0.0f);
    // factory presets, named
    auto* presets = find<juce::ComboBox> (ed, "presets");
    ASSERT_NE (presets, nullptr);
    EXPECT_GE (presets->getNumItems(), 1);
    for (int i = 0; i < presets->getNumItems(); ++i)
        EXPECT_TRUE (presets->getItemText (i).isNotEmpty());
    // the live latent display: the model's 16 dimensions; a bias on the first moves it by that much
    auto* display = find<nnplug::LatentDisplay> (ed, "latentDisplay");
    ASSERT_NE (display, nullptr);
    EXPECT_TRUE (display->isVisible());
    ed.tick();
    EXPECT_EQ (display->dims(), 16);
    const float before = p->latentMonitor().mean[0].load();
    setParam (*p, ParamID::latentBias (0), 2.0f);
    play (*p, 6);
    // (the tone's own latents drift a little meanwhile)
    EXPECT_NEAR (p->latentMonitor().mean[0].load() - before, 2.0f, 0.5f);
    ed.tick();
    snapshot (ed, "playing");
    setParam (*p, ParamID::latentBias (0), 0.0f);

    // the method menu: forward has no latent path, so the latent controls go; Auto brings them back
    auto* method = find<juce::ComboBox> (ed, ParamID::modelMethod);
    method->setSelectedId (2, juce::sendNotificationSync);
    EXPECT_EQ (ed.playState(), nnplug::PlayState::Loading);   // rebuilt on the loader's thread
    p->waitForLoader();
    play (*p, 4);
    ed.refresh();
    EXPECT_TRUE (p->getStatus().method.contains ("forward")) << p->getStatus().method;
    EXPECT_FALSE (shown (ed, ParamID::latentScale (0)));
    method->setSelectedId (1, juce::sendNotificationSync);
    p->waitForLoader();
    play (*p, 4);
    ed.refresh();
    EXPECT_TRUE (shown (ed, ParamID::latentScale (0)));

    // a buffer choice from the menu: the latency it announced is the one reported
    const auto announced = buffer->getItemText (2).fromFirstOccurrenceOf ("   ", false, false).trim();
    buffer->setSelectedId (3, juce::sendNotificationSync);
    p->waitForLoader();
    play (*p, 4);
    ed.refresh();
    EXPECT_EQ (p->getStatus().bufferSize, 128);
    EXPECT_EQ (announced, juce::String (1000.0 * p->getLatencySamples() / 44100.0, 1) + " ms");
}

TEST (Editor, ModelMenuPrevNextAndRecentFiles)
{
    auto p = prepared();
    NnplugEditor ed (*p);
    auto& browser = ed.browser();
    const auto menu = browser.buildMenu();
    const auto texts = menuTexts (menu);
    EXPECT_TRUE (texts.contains ("nnplug-default")) << texts.joinIntoString ("|");
    EXPECT_TRUE (texts.contains ("nn-tilde-controls.ts")) << texts.joinIntoString ("|");
    ASSERT_TRUE (runMenuItem (menu, "nn-tilde-controls.ts"));
    p->waitForLoader();
    play (*p, 4);   // the audio thread takes the new engine (crossfade)
    ed.refresh();
    EXPECT_EQ (textOf (ed, "modelName"), "nn-tilde-controls") << p->getStatus().message << p->getStatus().rejected << p->getStatus().modelPath;
    // its three controls, by their names; no latent path
    EXPECT_TRUE (shown (ed, ParamID::modelControl (2)));
    EXPECT_FALSE (shown (ed, ParamID::modelControl (3)));
    juce::StringArray names;
    for (auto* c : ed.getChildren())
        if (auto* l = dynamic_cast<juce::Label*> (c); l != nullptr && l->isVisible())
            names.add (l->getText());
    for (const char* n : { "gain", "invert", "steps" })
        EXPECT_TRUE (names.contains (n)) << n << " in " << names.joinIntoString ("|");
    EXPECT_FALSE (shown (ed, ParamID::latentScale (0)));
    snapshot (ed, "model-controls");

    EXPECT_EQ (browser.recentFiles()[0], scratch.getChildFile ("models/nn-tilde-controls.ts").getFullPathName());
    EXPECT_EQ (browser.lastFolder(), scratch.getChildFile ("models"));
    // next: the following file of the list, loaded the same way
    const auto list = browser.models();
    int at = -1;
    for (int i = 0; i < list.size(); ++i)
        if (list[i].file.getFileName() == "nn-tilde-controls.ts") at = i;
    ASSERT_GE (at, 0);
    browser.step (+1);
    p->waitForLoader();
    play (*p, 4);   // the audio thread takes the new engine (crossfade)
    ed.refresh();
    EXPECT_EQ (p->getStatus().modelPath, list[(at + 1) % list.size()].file.getFullPathName());
    browser.step (-1);
    p->waitForLoader();
    play (*p, 4);   // the audio thread takes the new engine (crossfade)
    EXPECT_EQ (p->getStatus().modelPath, list[at].file.getFullPathName());
    EXPECT_TRUE (runMenuItem (browser.buildMenu(), "nn-tilde-controls.ts  "));   // the Recent section
}

TEST (Editor, DroppedFileLoadsAndAFailedOneKeepsTheModel)
{
    auto p = prepared();
    NnplugEditor ed (*p);
    const auto dropped = scratch.getChildFile ("models/nn-tilde-controls.ts").getFullPathName();
    EXPECT_TRUE (ed.isInterestedInFileDrag ({ dropped }));
    EXPECT_FALSE (ed.isInterestedInFileDrag ({ scratch.getChildFile ("notes.txt").getFullPathName() }));
    ed.fileDragEnter ({ dropped }, 10, 10);
    snapshot (ed, "drop");
    ed.filesDropped ({ dropped }, 300, 300);
    p->waitForLoader();
    play (*p, 4);   // the audio thread takes the new engine (crossfade)
    ed.refresh();
    EXPECT_EQ (p->getStatus().modelPath, dropped);
    EXPECT_EQ (ed.playState(), nnplug::PlayState::Playing);
    // no latent path in this file: the latent controls go, its own controls come
    EXPECT_FALSE (shown (ed, ParamID::latentScale (0)));
    EXPECT_TRUE (shown (ed, ParamID::modelControl (0)));

    ed.filesDropped ({ models + "/corrupt.ts" }, 300, 300);
    p->waitForLoader();
    play (*p, 4);   // the audio thread takes the new engine (crossfade)
    ed.refresh();
    EXPECT_EQ (p->getStatus().modelPath, dropped);
    EXPECT_EQ (ed.playState(), nnplug::PlayState::Playing);
    EXPECT_TRUE (ed.messageLine().startsWith ("could not load corrupt.ts:")) << ed.messageLine();
    EXPECT_TRUE (ed.messageLine().contains ("still playing nn-tilde-controls.ts")) << ed.messageLine();
    snapshot (ed, "load-rejected");
}

TEST (Editor, LoadingWaitingFailedAndRelinked)
{
    // before the host starts audio: the choice is kept and shown
    {
        NnplugProcessor p;
        NnplugEditor ed (p);
        p.loadModel (models + "/delay_stereo.ts");
        ed.refresh();
        EXPECT_EQ (ed.playState(), nnplug::PlayState::Waiting);
        EXPECT_EQ (textOf (ed, "modelName"), "delay_stereo");
        snapshot (ed, "waiting");
    }
    auto p = prepared();
    NnplugEditor ed (*p);
    p->loadModel (scratch.getChildFile ("models/nn-tilde-controls.ts").getFullPathName());
    // loading (the bundle's model: the largest here, its load takes a while): the editor's
    // status read does not wait for the load
    ed.browser().choose (juce::File (bundleManifest().getSiblingFile ("nnplug-default.ts")));
    EXPECT_EQ (ed.playState(), nnplug::PlayState::Loading);
    EXPECT_TRUE (ed.messageLine().startsWith ("loading")) << ed.messageLine();
    snapshot (ed, "loading");
    p->waitForLoader();
    play (*p, 4);   // the audio thread takes the new engine (crossfade)
    ed.refresh();
    EXPECT_EQ (ed.playState(), nnplug::PlayState::Playing);

    // a project whose model is gone: passing dry, the reason in the line and the light's tooltip
    nnplug::test::restoreWithModel (*p, "/nonexistent/project/model.ts", juce::String::repeatedString ("cd", 32));
    play (*p, 4);
    ed.refresh();
    EXPECT_EQ (ed.playState(), nnplug::PlayState::PassingDry);
    EXPECT_TRUE (ed.messageLine().contains ("not found")) << ed.messageLine();
    EXPECT_TRUE (find<nnplug::StateLight> (ed, "stateLight")->getTooltip().contains ("not found"));
    snapshot (ed, "failed-passing-dry");
    setParam (*p, ParamID::onFailure, 1);
    ed.refresh();
    EXPECT_EQ (ed.playState(), nnplug::PlayState::Failed);
    setParam (*p, ParamID::onFailure, 0);

    // the same project model moved into the user folder: relinked by its sha256, and said so
    const auto file = scratch.getChildFile ("models/delay_stereo.ts");
    nnplug::test::restoreWithModel (*p, "/nonexistent/project/delay_stereo.ts", juce::SHA256 (file).toHexString());
    play (*p, 4);
    ed.refresh();
    EXPECT_EQ (ed.playState(), nnplug::PlayState::Playing);
    EXPECT_EQ (p->getStatus().modelPath, file.getFullPathName());
    EXPECT_TRUE (ed.messageLine().startsWith ("relinked delay_stereo.ts")) << ed.messageLine();
    snapshot (ed, "relinked");
}

TEST (Editor, ProjectModelRelinkedToTheStagedCopy)
{
    // A project made with the default model at another path (another machine's bundle): the
    // staged copy has the same sha256 (the manifest says so), and takes its place.
    ASSERT_TRUE (bundleManifest().existsAsFile());
    const auto staged = bundleManifest().getSiblingFile ("nnplug-default.ts");
    auto p = prepared();
    NnplugEditor ed (*p);
    p->loadModel (scratch.getChildFile ("models/delay_stereo.ts").getFullPathName());
    play (*p, 4);
    nnplug::test::restoreWithModel (*p, "/Library/Audio/Plug-Ins/VST3/nnplug.vst3/Contents/Resources/models/nnplug-default.ts",
             juce::SHA256 (staged).toHexString());
    play (*p, 4);
    ed.refresh();
    EXPECT_EQ (p->getStatus().modelPath, staged.getFullPathName());
    EXPECT_TRUE (p->getStatus().relinked);
    EXPECT_EQ (textOf (ed, "modelName"), "nnplug-default");
    EXPECT_TRUE (ed.messageLine().startsWith ("relinked nnplug-default.ts")) << ed.messageLine();
}

TEST (Editor, ResizesWithinLimitsAndKeepsItsLayout)
{
    auto p = prepared();
    NnplugEditor ed (*p);
    ASSERT_TRUE (ed.isResizable());
    auto* limits = ed.getConstrainer();
    ASSERT_NE (limits, nullptr);
    EXPECT_EQ (limits->getMinimumWidth(), NnplugEditor::minWidth);
    EXPECT_EQ (limits->getMaximumHeight(), NnplugEditor::maxHeight);
    // a host asking for too small or too large a window gets the limits
    juce::Rectangle<int> tooSmall (0, 0, 300, 200), tooLarge (0, 0, 5000, 5000);
    limits->checkBounds (tooSmall, ed.getBounds(), {}, false, false, false, false);
    limits->checkBounds (tooLarge, ed.getBounds(), {}, false, false, false, false);
    EXPECT_EQ (tooSmall.getWidth(), NnplugEditor::minWidth);
    EXPECT_EQ (tooLarge.getHeight(), NnplugEditor::maxHeight);
    for (auto size : { juce::Point<int> (NnplugEditor::minWidth, NnplugEditor::minHeight), juce::Point<int> (1200, 800) })
    {
        ed.setSize (size.x, size.y);
        ed.refresh();
        // every visible control inside the window, none on top of another
        juce::Array<juce::Component*> visible;
        for (auto* c : ed.getChildren())
            if (c->isVisible() && c->getComponentID().isNotEmpty())
            {
                EXPECT_TRUE (ed.getLocalBounds().contains (c->getBounds())) << c->getComponentID() << " at " << size.x;
                EXPECT_GT (c->getWidth(), 10) << c->getComponentID();
                for (auto* o : visible)
                    EXPECT_FALSE (o->getBounds().intersects (c->getBounds())) << o->getComponentID() << " / " << c->getComponentID();
                visible.add (c);
            }
        EXPECT_GT (visible.size(), 20);
        snapshot (ed, "size-" + juce::String (size.x) + "x" + juce::String (size.y));
    }
}

TEST (Editor, SavesAUserPresetAndListsIt)
{
    auto p = prepared();
    NnplugEditor ed (*p);
    setParam (*p, ParamID::dryWet, 40.0f);
    juce::String why;
    ASSERT_TRUE (p->saveUserPreset ("Half wet", why)) << why;
    ed.refreshPresets();
    const auto file = scratch.getChildFile ("presets/Half wet.vstpreset");
    ASSERT_TRUE (file.existsAsFile());
    juce::MemoryBlock state;
    juce::String name;
    ASSERT_TRUE (nnplug::readVstPreset (file, state, name, why)) << why;
    EXPECT_EQ (name, "Half wet");
    auto* presets = find<juce::ComboBox> (ed, "presets");
    EXPECT_EQ (presets->getText(), "Half wet");
    // choosing it from the menu restores it
    setParam (*p, ParamID::dryWet, 100.0f);
    presets->setSelectedId (0, juce::dontSendNotification);
    const int index = p->findProgram ("Half wet");
    ASSERT_GE (index, 0);
    presets->setSelectedId (index + 1, juce::sendNotificationSync);
    EXPECT_NEAR (p->parameters().getRawParameterValue (ParamID::dryWet)->load(), 40.0f, 0.01f);
}

int main (int argc, char** argv)
{
    // The user folders of this run, set before any processor scans them.
    scratch = juce::File::createTempFile ("nnplug-editor");
    scratch.getChildFile ("models").createDirectory();
    scratch.getChildFile ("presets").createDirectory();
    for (auto f : { models + "/delay_stereo.ts", contractFiles + "/nn-tilde-controls.ts" })
        juce::File (f).copyFileTo (scratch.getChildFile ("models").getChildFile (juce::File (f).getFileName()));
    setenv ("NNPLUG_MODELS_DIR", scratch.getChildFile ("models").getFullPathName().toRawUTF8(), 1);
    setenv ("NNPLUG_EDITOR_SETTINGS", scratch.getChildFile ("editor.settings").getFullPathName().toRawUTF8(), 1);
    setenv ("NNPLUG_USER_PRESET_DIR", scratch.getChildFile ("presets").getFullPathName().toRawUTF8(), 1);
    int result;
    {
        juce::ScopedJuceInitialiser_GUI juce;
        ::testing::InitGoogleTest (&argc, argv);
        result = RUN_ALL_TESTS();
    }
    scratch.deleteRecursively();
    return result;
}
