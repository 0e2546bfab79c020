#include "DelayMemory.h"
#include "BundledModels.h"

#include <map>
#include <mutex>

namespace nnplug {

namespace {

// python/nnplug/player.py's DELAY_RULE: a cache entry measured by another rule is not used.
constexpr int kDelayRule = 1;

std::mutex memoryMutex;
std::map<juce::String, std::optional<int>>& memory()
{
    static std::map<juce::String, std::optional<int>> delays;
    return delays;
}

juce::String key (const juce::String& sha, const juce::String& played) { return sha + "|" + played; }

std::optional<int> asDelay (const juce::var& v)
{
    if (v.isInt() || v.isInt64() || v.isDouble())
        return (int) v;
    return std::nullopt;
}

RememberedDelay fromManifest (const juce::String& sha, const juce::String& played)
{
    const auto dir = bundledModelsDir();
    if (dir == juce::File())
        return std::nullopt;
    const auto manifest = juce::JSON::parse (dir.getChildFile ("manifest.json"));
    if (auto* models = manifest.getProperty ("models", {}).getArray())
        for (const auto& m : *models)
        {
            const auto delay = m.getProperty ("delay", {});
            if (m.getProperty ("sha256", {}).toString() == sha && delay.getProperty ("played", {}).toString() == played)
                if (auto d = asDelay (delay.getProperty ("samples", {})))
                    return RememberedDelay (d);
        }
    return std::nullopt;
}

juce::File cacheFile (const juce::String& sha)
{
    return userCacheDir().getChildFile ("delays").getChildFile (sha + ".json");
}

} // namespace

juce::File userCacheDir()
{
    const auto env = juce::SystemStats::getEnvironmentVariable ("NNPLUG_CACHE_DIR", {});
    if (env.isNotEmpty())
        return juce::File (env);
    const auto xdg = juce::SystemStats::getEnvironmentVariable ("XDG_CACHE_HOME", {});
    const auto base = xdg.isNotEmpty() ? juce::File (xdg)
                                       : juce::File::getSpecialLocation (juce::File::userHomeDirectory).getChildFile (".cache");
    return base.getChildFile ("nnplug");
}

RememberedDelay recallDelay (const juce::String& sha, const juce::String& played)
{
    if (sha.isEmpty())
        return std::nullopt;
    if (auto d = fromManifest (sha, played))
        return d;
    {
        std::lock_guard<std::mutex> lock (memoryMutex);
        if (auto it = memory().find (key (sha, played)); it != memory().end())
            return RememberedDelay (it->second);
    }
    const auto saved = juce::JSON::parse (cacheFile (sha));
    if ((int) saved.getProperty ("rule", 0) == kDelayRule && saved.getProperty ("played", {}).toString() == played
        && saved.hasProperty ("delay"))
        return RememberedDelay (asDelay (saved.getProperty ("delay", {})));
    return std::nullopt;
}

void rememberDelay (const juce::String& sha, const juce::String& played, std::optional<int> delay)
{
    if (sha.isEmpty())
        return;
    {
        std::lock_guard<std::mutex> lock (memoryMutex);
        memory()[key (sha, played)] = delay;
    }
    auto* entry = new juce::DynamicObject();
    entry->setProperty ("rule", kDelayRule);
    entry->setProperty ("played", played);
    entry->setProperty ("delay", delay ? juce::var (*delay) : juce::var());
    const auto file = cacheFile (sha);
    // A read-only home loses only the cache. Written whole, then renamed, so a reader (another
    // instance, nnplug inspect) never sees half a file.
    if (file.getParentDirectory().createDirectory().wasOk())
    {
        const auto temp = file.getSiblingFile (file.getFileName() + ".tmp" + juce::String (juce::Random().nextInt64()));
        if (temp.replaceWithText (juce::JSON::toString (juce::var (entry), true)))
            temp.moveFileTo (file);
    }
}

} // namespace nnplug
