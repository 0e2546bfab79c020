// Helpers shared by the tests that drive the JUCE processor (test_loader.cpp, test_editor.cpp).
#pragma once

#include "PluginProcessor.h"

namespace nnplug::test {

// Restores the processor's own state with another model path and sha256, as a project saved
// elsewhere (or whose model moved) would.
inline void restoreWithModel (NnplugProcessor& p, const juce::String& path, const juce::String& sha)
{
    juce::MemoryBlock mb;
    p.getStateInformation (mb);
    auto xml = juce::AudioProcessor::getXmlFromBinary (mb.getData(), (int) mb.getSize());
    xml->setAttribute ("model_path", path);
    xml->setAttribute ("model_sha256", sha);
    juce::MemoryBlock blob;
    juce::AudioProcessor::copyXmlToBinary (*xml, blob);
    p.setStateInformation (blob.getData(), (int) blob.getSize());
}

} // namespace nnplug::test
