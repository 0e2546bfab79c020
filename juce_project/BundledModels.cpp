#include "BundledModels.h"
#include "Json.h"

namespace nnplug {

juce::File bundledModelsDir()
{
    // The plugin binary: <bundle>.vst3/Contents/<arch>/nnplug.so, <bundle>.lv2/nnplug.so, or
    // the Standalone executable.
    const auto binary = juce::File::getSpecialLocation (juce::File::currentExecutableFile);
    for (auto dir : { binary.getParentDirectory().getParentDirectory().getChildFile ("Resources/models"),
                      binary.getParentDirectory().getChildFile ("Resources/models") })
        if (dir.getChildFile ("manifest.json").existsAsFile())
            return dir;
    return {};
}

juce::String defaultModelPath (juce::String& whyNot)
{
    const auto dir = bundledModelsDir();
    if (dir == juce::File())
    {
        whyNot = "no model: the state names none and none is staged in the bundle (use `nnplug stage`)";
        return {};
    }
    try
    {
        const auto manifest = Json::parse (dir.getChildFile ("manifest.json").loadFileAsString().toStdString());
        const auto& models = manifest["models"].items();
        const std::string wanted = manifest["default"].str();
        for (const auto& m : models)
            if (wanted.empty() || m["name"].str() == wanted)
                return dir.getChildFile (juce::String (m["file"].str())).getFullPathName();
        whyNot = "no model: the bundle's manifest.json lists no default model";
    }
    catch (const std::exception& e)
    {
        whyNot = juce::String ("bundle manifest.json unreadable: ") + e.what();
    }
    return {};
}

} // namespace nnplug
