// Parameters: parameter values become engine controls (linear gains, mix 0..1) and engine
// settings (buffer size, inference mode, mono mode).
#include "Parameters.h"
#include "PluginProcessor.h"

#include <gtest/gtest.h>

namespace {

void set (NnplugProcessor& p, const juce::String& id, float plainValue)
{
    auto* param = dynamic_cast<juce::RangedAudioParameter*> (p.parameters().getParameter (id));
    ASSERT_NE (param, nullptr) << id;
    param->setValueNotifyingHost (param->convertTo0to1 (plainValue));
}

} // namespace

TEST (Parameters, ValuesBecomeControls)
{
    NnplugProcessor p;
    set (p, ParamID::inputGain, -6.0f);
    set (p, ParamID::outputGain, 0.0f);
    set (p, ParamID::dryWet, 40.0f);
    set (p, ParamID::onFailure, 1.0f);
    set (p, ParamID::latentScale (2), 2.0f);
    nnplug::Controls c;
    nnplug::readControls (p.parameters(), c);
    EXPECT_NEAR (c.inputGain.load(), juce::Decibels::decibelsToGain (-6.0f), 1e-6f);
    EXPECT_FLOAT_EQ (c.outputGain.load(), 1.0f);
    EXPECT_NEAR (c.mix.load(), 0.4f, 1e-6f);
    EXPECT_EQ (c.failure.load(), (int) nnplug::FailureMode::Silence);
    EXPECT_FLOAT_EQ (c.latent.scale[2].load(), 2.0f);
    EXPECT_FLOAT_EQ (c.latent.bias[2].load(), 0.0f);
}

TEST (Parameters, StructuralValuesBecomeEngineSettings)
{
    NnplugProcessor p;
    nnplug::EngineConfig c;
    nnplug::readStructure (p.parameters(), c);
    EXPECT_EQ (c.bufferSize, 0);   // Auto
    EXPECT_EQ (c.mode, nnplug::InferenceMode::Synchronous);
    EXPECT_EQ (c.channelMode, nnplug::ChannelMode::PerChannel);
    set (p, ParamID::bufferSize, (float) nnplug::bufferSizeChoices().indexOf ("2048"));
    set (p, ParamID::inferenceMode, 1.0f);
    set (p, ParamID::monoMode, 1.0f);
    nnplug::readStructure (p.parameters(), c);
    EXPECT_EQ (c.bufferSize, 2048);
    EXPECT_EQ (c.mode, nnplug::InferenceMode::Worker);
    EXPECT_EQ (c.channelMode, nnplug::ChannelMode::Downmix);
    for (auto* id : nnplug::structuralParameters) EXPECT_TRUE (nnplug::isStructural (id));
    EXPECT_FALSE (nnplug::isStructural (ParamID::dryWet));
}
