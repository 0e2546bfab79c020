// The editor's model browser: the bundle's staged models and the user models folder
// (BundledModels.h), previous/next through them, a menu (with the recently used files), Load…
// starting in the last folder used. The choice goes to `onChoose` (the editor hands it to the
// loader's thread). Recent files and the last folder are kept in a small settings file
// (NNPLUG_EDITOR_SETTINGS, else editor.settings beside the user models folder).
#pragma once

#include "BundledModels.h"

#include <juce_gui_basics/juce_gui_basics.h>

#include <functional>

namespace nnplug {

class ModelBrowser final : public juce::Component
{
public:
    ModelBrowser();
    ~ModelBrowser() override;

    std::function<void (const juce::String& path)> onChoose;

    // The playing model (its path; its display name), so prev/next and the menu start there.
    void setCurrent (const juce::String& path, const juce::String& name);
    void rescan();

    // The menu the model button shows; every item runs its own action (tests run them too).
    juce::PopupMenu buildMenu();
    void step (int delta);   // previous (-1) / next (+1) in the list, wrapping
    void choose (const juce::File& file);   // remembers it (recent, last folder) and calls onChoose
    void openFileChooser();

    const juce::Array<ModelEntry>& models() const { return list; }
    juce::StringArray recentFiles() const;
    juce::File lastFolder() const;
    static bool isModelFile (const juce::String& path);

    void resized() override;

private:
    juce::Array<ModelEntry> list;
    juce::String currentPath;
    juce::TextButton prev { juce::CharPointer_UTF8 ("\xe2\x97\x80") }, next { juce::CharPointer_UTF8 ("\xe2\x96\xb6") };
    juce::TextButton menuButton, loadButton { juce::CharPointer_UTF8 ("Load\xe2\x80\xa6") };
    std::unique_ptr<juce::FileChooser> chooser;
    std::unique_ptr<juce::PropertiesFile> settings;
};

} // namespace nnplug
