// Factory and user presets as programs. No libtorch here: this file only reads .vstpreset files.
//
// Where presets come from, in program order:
//   1. the bundle: <bundle>/Contents/Resources/presets/*.vstpreset (written by `nnplug presets build`),
//      sorted by file name;
//   2. the user preset folder of the VST3 convention, recursively (packs installed by
//      `nnplug presets install`), sorted by relative path:
//        Linux   ~/.vst3/presets/<company>/<plugin>/
//        macOS   ~/Library/Audio/Presets/<company>/<plugin>/
//        Windows %USERPROFILE%/Documents/VST3 Presets/<company>/<plugin>/
//      NNPLUG_USER_PRESET_DIR, when set, replaces that folder (tests point it at a temp dir).
//
// A file is listed only when it is a well-formed .vstpreset whose component state is this
// plugin's (an NNPLUG state XML); anything else is skipped, never half-loaded.
#pragma once

#include <juce_core/juce_core.h>

namespace nnplug {

struct PresetFile
{
    juce::String name;               // the Info chunk's "Name", else the file name
    juce::File file;
    bool factory = false;
};

// Reads a .vstpreset: its component state ('Comp' chunk) and its name. Returns false (and
// says why) for anything malformed: bad header, chunk list out of bounds, no 'Comp' chunk,
// a file larger than maxBytes.
bool readVstPreset (const juce::File& file, juce::MemoryBlock& component, juce::String& name,
                    juce::String& whyNot, juce::int64 maxBytes = 4 * 1024 * 1024);

// Writes a .vstpreset a VST3 host (and readVstPreset) reads: the component state as 'Comp', the
// name in an 'Info' chunk; `classId` is the 32-character VST3 component class ID. Returns false
// (and says why) when the file cannot be written.
bool writeVstPreset (const juce::File& file, const juce::MemoryBlock& component, const juce::String& name,
                     const juce::String& classId, juce::String& whyNot);

// This plugin's VST3 component class ID as preset files spell it: taken from a factory preset's
// header when the bundle has one, else JUCE's ID for this plugin's codes (non-Windows spelling).
juce::String vst3ClassId();

class PresetLibrary
{
public:
    // Scans the bundle's presets and the user preset folder (see above).
    void scan (const juce::File& bundlePresetsDir, const juce::File& userPresetsDir);
    static PresetLibrary scanned();          // scan (bundlePresetsDir(), userPresetsDir())

    int size() const { return presets.size(); }
    const PresetFile* get (int index) const;

    // The component state of preset `index`, read again from its file (it may have changed);
    // empty when the file is gone or malformed now.
    juce::MemoryBlock load (int index) const;

    static juce::File bundlePresetsDir();    // <bundle>/Contents/Resources/presets (may not exist)
    static juce::File userPresetsDir();      // the VST3 user folder, or NNPLUG_USER_PRESET_DIR

private:
    juce::Array<PresetFile> presets;
    void addFrom (const juce::File& dir, bool factory, bool recursive);
};

} // namespace nnplug
