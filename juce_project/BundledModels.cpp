#include "BundledModels.h"
#include "Json.h"

#include <juce_cryptography/juce_cryptography.h>

#include <map>
#include <mutex>

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

juce::File userModelsDir()
{
    const auto env = juce::SystemStats::getEnvironmentVariable ("NNPLUG_MODELS_DIR", {});
    if (env.isNotEmpty())
        return juce::File::isAbsolutePath (env) ? juce::File (env) : juce::File();
   #if JUCE_MAC
    return juce::File::getSpecialLocation (juce::File::userApplicationDataDirectory).getChildFile ("Application Support/nnplug/Models");
   #elif JUCE_WINDOWS
    return juce::File::getSpecialLocation (juce::File::userApplicationDataDirectory).getChildFile ("nnplug/Models");
   #else
    const auto xdg = juce::SystemStats::getEnvironmentVariable ("XDG_DATA_HOME", {});
    const auto base = juce::File::isAbsolutePath (xdg) ? juce::File (xdg)
                                                     : juce::File::getSpecialLocation (juce::File::userHomeDirectory).getChildFile (".local/share");
    return base.getChildFile ("nnplug/models");
   #endif
}

namespace {

juce::Array<ModelEntry> bundledModels()
{
    juce::Array<ModelEntry> out;
    const auto dir = bundledModelsDir();
    if (dir == juce::File())
        return out;
    try
    {
        const auto manifest = Json::parse (dir.getChildFile ("manifest.json").loadFileAsString().toStdString());
        for (const auto& m : manifest["models"].items())
        {
            ModelEntry e;
            e.name = juce::String (m["name"].str());
            e.file = dir.getChildFile (juce::String (m["file"].str()));
            e.sha256 = juce::String (m["sha256"].str()).toLowerCase();
            e.bundled = true;
            if (e.file.existsAsFile())
                out.add (e);
        }
    }
    catch (const std::exception&) {}   // an unreadable manifest lists nothing (defaultModelPath says why)
    return out;
}

juce::Array<juce::File> userModelFiles()
{
    const auto dir = userModelsDir();
    if (! dir.isDirectory())
        return {};
    auto files = dir.findChildFiles (juce::File::findFiles, true, "*.ts;*.pt;*.nm");
    files.sort();
    return files;
}

} // namespace

juce::Array<ModelEntry> listModels()
{
    auto out = bundledModels();
    for (const auto& f : userModelFiles())
        out.add ({ f.getFileNameWithoutExtension(), f, {}, false });
    return out;
}

juce::String sha256Of (const juce::File& file)
{
    struct Key
    {
        juce::String path;
        juce::int64 size, modified;
        bool operator< (const Key& o) const
        {
            return std::tie (path, size, modified) < std::tie (o.path, o.size, o.modified);
        }
    };
    static std::mutex mutex;
    static std::map<Key, juce::String> known;
    const Key key { file.getFullPathName(), file.getSize(), file.getLastModificationTime().toMilliseconds() };
    {
        std::lock_guard<std::mutex> lock (mutex);
        if (auto it = known.find (key); it != known.end())
            return it->second;
    }
    const auto sha = juce::SHA256 (file).toHexString();
    std::lock_guard<std::mutex> lock (mutex);
    known[key] = sha;
    return sha;
}

juce::File findModelBySha (const juce::String& sha256, const juce::String& hint)
{
    const auto wanted = sha256.toLowerCase();
    if (wanted.isEmpty())
        return {};
    for (const auto& e : bundledModels())
        if (e.sha256 == wanted)
            return e.file;
    auto files = userModelFiles();
    const auto hintName = juce::File (hint).getFileName();
    std::stable_partition (files.begin(), files.end(), [&] (const juce::File& f) { return f.getFileName() == hintName; });
    for (const auto& f : files)
        if (sha256Of (f) == wanted)
            return f;
    return {};
}

} // namespace nnplug
