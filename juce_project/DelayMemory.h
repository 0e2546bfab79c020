// Model delays measured once per file (a file without nnplug metadata states none; measuring
// it takes dozens of buffers of a large model), remembered by the file's sha256 and its played
// path, so that a rebuild, a reload or another instance does not measure it again:
//   1. the bundle's manifest.json (`nnplug stage` measures it there);
//   2. this process's memory;
//   3. the per-user cache that python/nnplug/player.py's file_delay also reads and writes
//      ($NNPLUG_CACHE_DIR, else $XDG_CACHE_HOME/nnplug, else ~/.cache/nnplug; delays/<sha256>.json).
// The measurement rule is the same everywhere (plugin/src/DelayProbe.h), so any source gives
// the value a measurement here would.
#pragma once

#include <juce_core/juce_core.h>

#include <optional>

namespace nnplug {

// The remembered delay: nullopt when none is remembered; an inner nullopt when the file was
// measured and does not respond to an impulse.
using RememberedDelay = std::optional<std::optional<int>>;

RememberedDelay recallDelay (const juce::String& sha256, const juce::String& played);
void rememberDelay (const juce::String& sha256, const juce::String& played, std::optional<int> delay);

// The per-user cache folder (see above).
juce::File userCacheDir();

} // namespace nnplug
