// StateCodec: a written state reads back into the same parameters and model; what a blob
// gets wrong is rejected whole or ignored field by field, and said so.
#include "PluginProcessor.h"
#include "StateCodec.h"

#include <gtest/gtest.h>

namespace {

juce::MemoryBlock written (NnplugProcessor& p, const nnplug::SavedModel& model)
{
    juce::MemoryBlock mb;
    nnplug::writeState (p.parameters(), model, nnplug::PluginStatus {}, mb);
    return mb;
}

float value (NnplugProcessor& p, const char* id)
{
    return p.parameters().getRawParameterValue (id)->load();
}

} // namespace

TEST (StateCodec, RoundTrip)
{
    NnplugProcessor a;
    a.parameters().getParameter (ParamID::dryWet)->setValueNotifyingHost (0.25f);
    const auto sha = juce::String::repeatedString ("0f", 32);
    const auto mb = written (a, { "/models/x.ts", sha });

    NnplugProcessor b;
    const auto r = nnplug::readState (mb.getData(), (int) mb.getSize(), b.parameters());
    EXPECT_TRUE (r.rejected.isEmpty()) << r.rejected;
    EXPECT_TRUE (r.ignored.isEmpty()) << r.ignored.joinIntoString (", ");
    ASSERT_TRUE (r.modelPath.has_value());
    EXPECT_EQ (*r.modelPath, "/models/x.ts");
    EXPECT_EQ (r.modelSha256, sha);
    EXPECT_FLOAT_EQ (value (b, ParamID::dryWet), 25.0f);
}

TEST (StateCodec, RejectsWhatIsNotOurs)
{
    NnplugProcessor p;
    EXPECT_EQ (nnplug::readState (nullptr, 0, p.parameters()).rejected, "empty");
    const char junk[] = "definitely not a state";
    EXPECT_FALSE (nnplug::readState (junk, (int) sizeof (junk), p.parameters()).rejected.isEmpty());
    juce::XmlElement other ("SOMETHING");
    juce::MemoryBlock mb;
    juce::AudioProcessor::copyXmlToBinary (other, mb);
    EXPECT_TRUE (nnplug::readState (mb.getData(), (int) mb.getSize(), p.parameters()).rejected.contains ("SOMETHING"));
}

TEST (StateCodec, IgnoresBadFieldsAndClampsValues)
{
    NnplugProcessor p;
    auto mb = written (p, { "relative/path.ts", "not-a-sha" });
    auto xml = juce::AudioProcessor::getXmlFromBinary (mb.getData(), (int) mb.getSize());
    ASSERT_NE (xml, nullptr);
    for (auto* param : xml->getChildWithTagNameIterator ("PARAM"))
        if (param->getStringAttribute ("id") == ParamID::inputGain)
            param->setAttribute ("value", "1e9");   // far beyond +24 dB
    auto* unknown = xml->createNewChildElement ("PARAM");
    unknown->setAttribute ("id", "no_such_param");
    unknown->setAttribute ("value", "1");
    juce::AudioProcessor::copyXmlToBinary (*xml, mb);

    const auto r = nnplug::readState (mb.getData(), (int) mb.getSize(), p.parameters());
    EXPECT_TRUE (r.rejected.isEmpty());
    EXPECT_FALSE (r.modelPath.has_value());   // the current model stays
    EXPECT_TRUE (r.modelSha256.isEmpty());
    const auto ignored = r.ignored.joinIntoString (", ");
    EXPECT_TRUE (ignored.contains ("no_such_param")) << ignored;
    EXPECT_TRUE (ignored.contains ("model_path")) << ignored;
    EXPECT_TRUE (ignored.contains ("model_sha256")) << ignored;
    EXPECT_FLOAT_EQ (value (p, ParamID::inputGain), 24.0f);
}
