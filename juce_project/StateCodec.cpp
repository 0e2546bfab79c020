#include "StateCodec.h"

#include <algorithm>
#include <cmath>

namespace nnplug {

namespace {

constexpr int kStateVersion = 1;
// Limits checked before a state blob is parsed: ours is a few kB with ~30 elements, and JUCE's
// XML parser recurses once per nesting level (a deeply nested blob would overflow the stack).
constexpr int kMaxStateBytes = 1 << 20;
constexpr int kMaxStateElements = 4096;

// Quoted as printable ASCII: the status must stay readable by any XML parser.
juce::String printable (const juce::String& s)
{
    return s.substring (0, 40)
        .retainCharacters (" !#$%()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz{|}~")
        .quoted();
}

} // namespace

void writeState (juce::AudioProcessorValueTreeState& apvts, const SavedModel& model, const PluginStatus& s,
                 juce::MemoryBlock& dest)
{
    auto state = apvts.copyState();
    std::unique_ptr<juce::XmlElement> xml (state.createXml());
    if (xml == nullptr)
        return;
    xml->setAttribute ("version", kStateVersion);
    xml->setAttribute ("model_path", model.path);
    xml->setAttribute ("model_sha256", model.sha256);
    auto* st = xml->createNewChildElement ("STATUS");
    st->setAttribute ("loaded", s.loaded ? 1 : 0);
    st->setAttribute ("failed", s.failed ? 1 : 0);
    st->setAttribute ("message", s.message);
    st->setAttribute ("state_message", s.stateMessage);
    st->setAttribute ("model_name", s.modelName);
    st->setAttribute ("model_file", s.modelPath);
    st->setAttribute ("format", s.format);
    st->setAttribute ("latency", s.latency);
    st->setAttribute ("buffer_size", s.bufferSize);
    st->setAttribute ("method", s.method);
    st->setAttribute ("controls", s.controls.joinIntoString ("|"));
    st->setAttribute ("model_delay", s.modelDelay);
    st->setAttribute ("model_rate", s.modelRate);
    st->setAttribute ("host_rate", s.hostRate);
    juce::AudioProcessor::copyXmlToBinary (*xml, dest);
}

ReadState readState (const void* data, int sizeInBytes, juce::AudioProcessorValueTreeState& apvts)
{
    ReadState r;
    auto reject = [&r] (const juce::String& why)
    {
        r.rejected = why;
        return r;
    };
    if (data == nullptr || sizeInBytes <= 0)
        return reject ("empty");
    if (sizeInBytes > kMaxStateBytes)
        return reject ("larger than " + juce::String (kMaxStateBytes) + " bytes");
    const auto* bytes = static_cast<const char*> (data);
    if (std::count (bytes, bytes + sizeInBytes, '<') > kMaxStateElements)
        return reject ("more than " + juce::String (kMaxStateElements) + " XML elements");
    auto xml = juce::AudioProcessor::getXmlFromBinary (data, sizeInBytes);
    if (xml == nullptr)
        return reject ("not an nnplug state (no XML in the format of copyXmlToBinary)");
    if (! xml->hasTagName (kStateTag))
        return reject ("not an nnplug state (<" + xml->getTagName().substring (0, 40) + ">)");
    const int version = xml->getIntAttribute ("version", 0);
    if (version < 1 || version > kStateVersion)
        return reject ("state version " + xml->getStringAttribute ("version").substring (0, 20)
                       + " is not supported (this plugin reads 1.." + juce::String (kStateVersion) + ")");

    for (auto* p : xml->getChildWithTagNameIterator ("PARAM"))
    {
        const auto id = p->getStringAttribute ("id");
        auto* param = dynamic_cast<juce::RangedAudioParameter*> (apvts.getParameter (id));
        const auto text = p->getStringAttribute ("value").trim();
        const float v = text.getFloatValue();
        if (param == nullptr || text.isEmpty() || ! (text.containsOnly ("0123456789.-+eE")) || ! std::isfinite (v))
        {
            r.ignored.add ("PARAM " + printable (id));
            continue;
        }
        const auto& range = param->getNormalisableRange();
        param->setValueNotifyingHost (param->convertTo0to1 (juce::jlimit (range.start, range.end, v)));
    }

    // A model path must be absolute (or empty: the bundle's default) and a sha256 64 hex digits.
    const auto path = xml->getStringAttribute ("model_path");
    const auto sha = xml->getStringAttribute ("model_sha256");
    if (path.isEmpty() || juce::File::isAbsolutePath (path))
        r.modelPath = path;
    else
        r.ignored.add ("model_path (not an absolute path)");
    if (sha.isEmpty() || (sha.length() == 64 && sha.containsOnly ("0123456789abcdef")))
        r.modelSha256 = sha;
    else
        r.ignored.add ("model_sha256 (not a sha256)");
    return r;
}

} // namespace nnplug
