// The models staged in the plugin's bundle by `nnplug stage`: Contents/Resources/models with a
// manifest.json ({"default": name, "models": [{"name", "file", ...}]}).
#pragma once

#include <juce_core/juce_core.h>

namespace nnplug {

// The directory holding staged models, or File() when the bundle has none.
juce::File bundledModelsDir();

// The bundle's default model file: the manifest's "default" entry (the first model when it
// names none). Empty, with the reason in whyNot, when there is none or the manifest is unreadable.
juce::String defaultModelPath (juce::String& whyNot);

// The user's models folder, listed by the editor's model browser and searched when a state's
// model file has moved: NNPLUG_MODELS_DIR when set (absolute), else
//   Linux    $XDG_DATA_HOME/nnplug/models (~/.local/share/nnplug/models)
//   macOS    ~/Library/Application Support/nnplug/Models
//   Windows  %APPDATA%\nnplug\Models
// It may not exist.
juce::File userModelsDir();

// The model files the browser offers: the bundle's staged models (the manifest's order), then
// the user folder's (*.ts, *.pt, *.nm, recursively, sorted by path).
struct ModelEntry
{
    juce::String name;
    juce::File file;
    juce::String sha256;   // from the bundle's manifest; empty for user files (not hashed)
    bool bundled = false;
};
juce::Array<ModelEntry> listModels();

// A model file with this sha256 (lower-case hex): the bundle's manifest says it, user files are
// hashed (those of the same name as `hint` first). File() when none is found.
juce::File findModelBySha (const juce::String& sha256, const juce::String& hint);

// A file's sha256, remembered by path, size and modification time: hashing a large model
// takes seconds and the same file is asked for again and again.
juce::String sha256Of (const juce::File& file);

} // namespace nnplug
