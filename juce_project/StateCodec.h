// The plugin's state blob (what hosts save in projects and .vstpreset files): JUCE's
// copyXmlToBinary of an <NNPLUG version="1"> element holding the parameters (<PARAM id value>),
// the model file (model_path, model_sha256), and a <STATUS> element that says what the plugin
// is doing (for hosts and tools: python/nnplug/hosts/status.py reads it; ignored when read back).
#pragma once

#include <juce_audio_processors/juce_audio_processors.h>

#include <optional>

namespace nnplug {

// The state's root tag, also the type of the parameters' ValueTree.
inline constexpr const char* kStateTag = "NNPLUG";

// What the plugin is doing, for the editor, tests and the state's <STATUS>.
struct PluginStatus
{
    juce::String modelName, modelPath, sha256, format, method;
    juce::StringArray controls;  // what "Model control k" is for the loaded model, in order
    double modelRate = 0, hostRate = 0;
    int ratio = 0, bufferSize = 0, latency = 0, modelDelay = 0;
    bool loaded = false, failed = false;
    juce::String message;        // error or warning; empty when all is well
    juce::String stateMessage;   // why the last state given to setStateInformation was (partly) ignored
    // For the editor (ModelLoader.h):
    juce::String author, description;
    int latentSize = 0;          // latents the controls act on; 0 when the played path is not encode -> decode
    juce::String rejected;       // one line: the last model the user picked could not be loaded (another plays)
    juce::String details;        // the full text behind `rejected` or `message`
    juce::String waitingPath;    // before the first prepareToPlay: the model that will load then
    bool loading = false;        // a model the editor asked for is being loaded
    bool relinked = false;       // the state's model file was missing and found elsewhere by its sha256
};

struct SavedModel
{
    juce::String path;     // absolute, or empty: the bundle's default model
    juce::String sha256;   // of the file when saved; empty when unknown
};

void writeState (juce::AudioProcessorValueTreeState& apvts, const SavedModel& model, const PluginStatus& status,
                 juce::MemoryBlock& dest);

// What readState made of a blob.
struct ReadState
{
    juce::String rejected;    // non-empty: the whole blob was refused (nothing was applied), and why
    // The saved model file. A path that is not absolute is ignored (listed, and the current
    // model stays: nullopt); a sha256 that is not 64 hex digits is ignored (listed, and empty).
    std::optional<juce::String> modelPath;
    juce::String modelSha256;
    juce::StringArray ignored;
};

// Checks a blob and sets the parameters it holds on `apvts` (each clamped to its range); a
// parameter it does not know, or a value that is not a number, is ignored and listed. A blob
// that is not ours, too large, too deeply nested or of another version is rejected whole.
ReadState readState (const void* data, int sizeInBytes, juce::AudioProcessorValueTreeState& apvts);

} // namespace nnplug
