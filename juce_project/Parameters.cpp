#include "Parameters.h"

namespace nnplug {

const juce::StringArray& bufferSizeChoices()
{
    static const juce::StringArray choices { "Auto", "64", "128", "256", "512", "1024", "2048", "4096", "8192", "16384" };
    return choices;
}

const juce::StringArray& methodChoices()
{
    static const juce::StringArray choices { "Auto", "forward", "encode -> decode" };
    return choices;
}

bool isStructural (const juce::String& id)
{
    for (auto* s : structuralParameters)
        if (id == s)
            return true;
    return false;
}

juce::AudioProcessorValueTreeState::ParameterLayout createParameterLayout()
{
    using namespace juce;
    AudioProcessorValueTreeState::ParameterLayout layout;
    auto dB = [] (float v, int) { return String (v, 1) + " dB"; };
    layout.add (std::make_unique<AudioParameterFloat> (ParameterID { ParamID::inputGain, 1 }, "Input gain",
                                                       NormalisableRange<float> (-24.0f, 24.0f, 0.01f), 0.0f,
                                                       AudioParameterFloatAttributes().withStringFromValueFunction (dB)));
    layout.add (std::make_unique<AudioParameterFloat> (ParameterID { ParamID::outputGain, 1 }, "Output gain",
                                                       NormalisableRange<float> (-24.0f, 24.0f, 0.01f), 0.0f,
                                                       AudioParameterFloatAttributes().withStringFromValueFunction (dB)));
    layout.add (std::make_unique<AudioParameterFloat> (ParameterID { ParamID::dryWet, 1 }, "Dry/wet",
                                                       NormalisableRange<float> (0.0f, 100.0f, 0.1f), 100.0f,
                                                       AudioParameterFloatAttributes().withLabel ("%")));
    // Structural: changing them rebuilds the engine (and its latency), so not automatable.
    layout.add (std::make_unique<AudioParameterChoice> (ParameterID { ParamID::bufferSize, 1 }, "Model buffer size",
                                                        bufferSizeChoices(), 0,
                                                        AudioParameterChoiceAttributes().withAutomatable (false)));
    layout.add (std::make_unique<AudioParameterChoice> (ParameterID { ParamID::inferenceMode, 1 }, "Inference mode",
                                                        StringArray { "Synchronous", "Worker thread" }, 0,
                                                        AudioParameterChoiceAttributes().withAutomatable (false)));
    layout.add (std::make_unique<AudioParameterChoice> (ParameterID { ParamID::onFailure, 1 }, "On failure",
                                                        StringArray { "Pass dry", "Silence" }, 0));
    layout.add (std::make_unique<AudioParameterChoice> (ParameterID { ParamID::monoMode, 1 }, "Mono model on stereo",
                                                        StringArray { "Per channel", "Downmix" }, 0,
                                                        AudioParameterChoiceAttributes().withAutomatable (false)));
    layout.add (std::make_unique<AudioParameterChoice> (ParameterID { ParamID::modelMethod, 1 }, "Model method",
                                                        methodChoices(), 0,
                                                        AudioParameterChoiceAttributes().withAutomatable (false)));
    // The model's own values (nn~ attributes, Neutone knobs), in file order; the model says what
    // each means (ModelInfo::controls; the status lists their names). 0.5 is the model's default.
    for (int i = 0; i < kMaxModelControls; ++i)
        layout.add (std::make_unique<AudioParameterFloat> (ParameterID { ParamID::modelControl (i), 1 },
                                                           "Model control " + String (i + 1),
                                                           NormalisableRange<float> (0.0f, 1.0f),
                                                           ControlSpec::kDefaultParameter));
    for (int i = 0; i < kLatentControls; ++i)
    {
        layout.add (std::make_unique<AudioParameterFloat> (ParameterID { ParamID::latentScale (i), 1 },
                                                           "Latent " + String (i + 1) + " scale",
                                                           NormalisableRange<float> (-4.0f, 4.0f, 0.001f), 1.0f));
        layout.add (std::make_unique<AudioParameterFloat> (ParameterID { ParamID::latentBias (i), 1 },
                                                           "Latent " + String (i + 1) + " bias",
                                                           NormalisableRange<float> (-4.0f, 4.0f, 0.001f), 0.0f));
    }
    return layout;
}

namespace {

float value (const juce::AudioProcessorValueTreeState& apvts, const juce::String& id)
{
    return apvts.getRawParameterValue (id)->load();
}

} // namespace

void readControls (const juce::AudioProcessorValueTreeState& apvts, Controls& controls)
{
    controls.inputGain.store (juce::Decibels::decibelsToGain (value (apvts, ParamID::inputGain), -1000.0f));
    controls.outputGain.store (juce::Decibels::decibelsToGain (value (apvts, ParamID::outputGain), -1000.0f));
    controls.mix.store (value (apvts, ParamID::dryWet) / 100.0f);
    controls.failure.store ((int) value (apvts, ParamID::onFailure));
    for (int i = 0; i < kMaxModelControls; ++i)
        controls.model[(size_t) i].store (value (apvts, ParamID::modelControl (i)));
    for (int i = 0; i < kLatentControls; ++i)
    {
        controls.latent.scale[(size_t) i].store (value (apvts, ParamID::latentScale (i)));
        controls.latent.bias[(size_t) i].store (value (apvts, ParamID::latentBias (i)));
    }
}

void readStructure (const juce::AudioProcessorValueTreeState& apvts, EngineConfig& c)
{
    const int choice = (int) value (apvts, ParamID::bufferSize);
    c.bufferSize = choice <= 0 ? 0 : bufferSizeChoices()[choice].getIntValue();
    c.mode = (int) value (apvts, ParamID::inferenceMode) == 1 ? InferenceMode::Worker : InferenceMode::Synchronous;
    c.channelMode = (int) value (apvts, ParamID::monoMode) == 1 ? ChannelMode::Downmix : ChannelMode::PerChannel;
    c.method = (MethodChoice) std::clamp ((int) value (apvts, ParamID::modelMethod), 0, 2);
}


} // namespace nnplug
