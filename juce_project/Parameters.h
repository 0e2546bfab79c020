// The plugin's parameters: stable IDs (saved in states and presets; python/nnplug/hosts reads
// them), the layout, and how their values become engine controls and engine settings.
#pragma once

#include "Engine.h"

#include <juce_audio_processors/juce_audio_processors.h>

#include <array>

namespace ParamID {
inline constexpr const char* inputGain = "input_gain";
inline constexpr const char* outputGain = "output_gain";
inline constexpr const char* dryWet = "dry_wet";
inline constexpr const char* bufferSize = "buffer_size";
inline constexpr const char* inferenceMode = "inference_mode";
inline constexpr const char* onFailure = "on_failure";
inline constexpr const char* monoMode = "mono_mode";
inline constexpr const char* modelMethod = "model_method";
inline juce::String modelControl (int i) { return "model_control_" + juce::String (i + 1); }
inline juce::String latentScale (int i) { return "latent_scale_" + juce::String (i + 1); }
inline juce::String latentBias (int i) { return "latent_bias_" + juce::String (i + 1); }
} // namespace ParamID

namespace nnplug {

juce::AudioProcessorValueTreeState::ParameterLayout createParameterLayout();

// The buffer_size parameter's choices: "Auto", then sizes in samples.
const juce::StringArray& bufferSizeChoices();
// The model_method parameter's choices, in MethodChoice's order (python/nnplug/contract.py's
// METHOD_CHOICES). Auto plays encode -> decode when the file has a pair that fits, forward otherwise.
const juce::StringArray& methodChoices();

// Structural parameters change the engine (and its latency): a change rebuilds it.
inline constexpr std::array<const char*, 4> structuralParameters { ParamID::bufferSize, ParamID::inferenceMode,
                                                                   ParamID::monoMode, ParamID::modelMethod };
bool isStructural (const juce::String& id);

// The automatable values, as the engine reads them (linear gains, mix 0..1).
void readControls (const juce::AudioProcessorValueTreeState& apvts, Controls& controls);

// The structural values into an engine configuration (buffer size, inference mode, mono mode, method).
void readStructure (const juce::AudioProcessorValueTreeState& apvts, EngineConfig& config);

} // namespace nnplug
