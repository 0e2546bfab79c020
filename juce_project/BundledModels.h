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

} // namespace nnplug
