#include "Presets.h"

#include <cstring>

namespace nnplug {

namespace {

constexpr int kHeaderSize = 48;          // 'VST3', int32 version, 32-char class ID, int64 list offset
constexpr int kMaxChunks = 64;
constexpr int kMaxFiles = 2048;          // per folder scan: a runaway folder must not stall a host
constexpr juce::uint32 kXmlMagic = 0x21324356;   // "VC2!" little-endian: AudioProcessor::copyXmlToBinary

juce::int32 readInt32 (const char* p)
{
    juce::uint32 v;
    std::memcpy (&v, p, 4);
    return (juce::int32) juce::ByteOrder::swapIfBigEndian (v);
}

juce::int64 readInt64 (const char* p)
{
    juce::uint64 v;
    std::memcpy (&v, p, 8);
    return (juce::int64) juce::ByteOrder::swapIfBigEndian (v);
}

// The XML inside a state written by copyXmlToBinary (trailing JUCE private data ignored).
std::unique_ptr<juce::XmlElement> stateXml (const juce::MemoryBlock& state)
{
    const auto* d = static_cast<const char*> (state.getData());
    const auto size = (juce::int64) state.getSize();
    if (size <= 8 || (juce::uint32) readInt32 (d) != kXmlMagic)
        return nullptr;
    const auto len = (juce::int64) (juce::uint32) readInt32 (d + 4);
    if (len <= 0 || len > size - 8)
        return nullptr;
    return juce::parseXML (juce::String::fromUTF8 (d + 8, (int) len));
}

juce::String infoName (const char* data, juce::int64 size)
{
    auto xml = juce::parseXML (juce::String::fromUTF8 (data, (int) size));
    if (xml == nullptr)
        return {};
    for (auto* attr : xml->getChildWithTagNameIterator ("Attr"))
        if (attr->getStringAttribute ("id") == "Name")
            return attr->getStringAttribute ("value").trim();
    return {};
}

} // namespace

bool writeVstPreset (const juce::File& file, const juce::MemoryBlock& component, const juce::String& name,
                     const juce::String& classId, juce::String& whyNot)
{
    if (classId.length() != 32) { whyNot = "bad class ID"; return false; }
    juce::String info;
    info << "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<MetaInfo>\n\t<Attr id=\"Name\" value=\""
         << name.replace ("&", "&amp;").replace ("\"", "&quot;").replace ("<", "&lt;").replace (">", "&gt;")
         << "\" type=\"string\"/>\n</MetaInfo>\n";
    const auto infoBytes = info.toUTF8();
    const auto infoSize = (juce::int64) info.getNumBytesAsUTF8();
    juce::MemoryOutputStream out;
    out.write ("VST3", 4);
    out.writeInt (1);
    out.write (classId.toRawUTF8(), 32);
    const juce::int64 compOffset = kHeaderSize, compSize = (juce::int64) component.getSize();
    const juce::int64 infoOffset = compOffset + compSize;
    out.writeInt64 (infoOffset + infoSize);   // the chunk list follows the chunks
    out.write (component.getData(), component.getSize());
    out.write (infoBytes.getAddress(), (size_t) infoSize);
    out.write ("List", 4);
    out.writeInt (2);
    out.write ("Comp", 4); out.writeInt64 (compOffset); out.writeInt64 (compSize);
    out.write ("Info", 4); out.writeInt64 (infoOffset); out.writeInt64 (infoSize);
    if (! file.getParentDirectory().createDirectory() || ! file.replaceWithData (out.getData(), out.getDataSize()))
    {
        whyNot = "cannot write " + file.getFullPathName();
        return false;
    }
    return true;
}

juce::String vst3ClassId()
{
    for (const auto& f : PresetLibrary::bundlePresetsDir().findChildFiles (juce::File::findFiles, false, "*.vstpreset"))
    {
        juce::MemoryBlock head;
        juce::FileInputStream in (f);
        if (in.openedOk() && in.readIntoMemoryBlock (head, kHeaderSize) == kHeaderSize
            && std::memcmp (head.getData(), "VST3", 4) == 0)
            return juce::String::fromUTF8 (static_cast<const char*> (head.getData()) + 8, 32);
    }
    // JUCE's component IID: ABCDEF01 9182FAEB <manufacturer code> <plugin code>.
    return juce::String ("ABCDEF019182FAEB") + juce::String::toHexString ((int) JucePlugin_ManufacturerCode).paddedLeft ('0', 8).toUpperCase()
           + juce::String::toHexString ((int) JucePlugin_PluginCode).paddedLeft ('0', 8).toUpperCase();
}

bool readVstPreset (const juce::File& file, juce::MemoryBlock& component, juce::String& name,
                    juce::String& whyNot, juce::int64 maxBytes)
{
    component.reset();
    name = {};
    if (! file.existsAsFile()) { whyNot = "not a file"; return false; }
    const auto fileSize = file.getSize();
    if (fileSize < kHeaderSize + 8) { whyNot = "too short for a .vstpreset"; return false; }
    if (fileSize > maxBytes) { whyNot = "larger than " + juce::String (maxBytes) + " bytes"; return false; }

    juce::MemoryBlock bytes;
    if (! file.loadFileAsData (bytes) || (juce::int64) bytes.getSize() != fileSize)
    {
        whyNot = "unreadable";
        return false;
    }
    const auto* d = static_cast<const char*> (bytes.getData());
    const auto size = (juce::int64) bytes.getSize();
    if (std::memcmp (d, "VST3", 4) != 0) { whyNot = "no 'VST3' header"; return false; }
    const auto listOffset = readInt64 (d + 40);
    if (listOffset < kHeaderSize || listOffset > size - 8 || std::memcmp (d + listOffset, "List", 4) != 0)
    {
        whyNot = "chunk list missing or out of bounds";
        return false;
    }
    const auto count = readInt32 (d + listOffset + 4);
    if (count < 0 || count > kMaxChunks || listOffset + 8 + (juce::int64) count * 20 > size)
    {
        whyNot = "chunk list entries out of bounds";
        return false;
    }
    bool haveComp = false;
    for (int i = 0; i < count; ++i)
    {
        const char* e = d + listOffset + 8 + i * 20;
        const auto offset = readInt64 (e + 4), chunkSize = readInt64 (e + 12);
        if (offset < kHeaderSize || chunkSize < 0 || offset > size || chunkSize > size - offset)
        {
            whyNot = "chunk out of bounds";
            return false;
        }
        if (std::memcmp (e, "Comp", 4) == 0 && ! haveComp)
        {
            component.append (d + offset, (size_t) chunkSize);
            haveComp = true;
        }
        else if (std::memcmp (e, "Info", 4) == 0 && chunkSize > 0)
            name = infoName (d + offset, chunkSize);
    }
    if (! haveComp || component.getSize() == 0) { whyNot = "no component state ('Comp' chunk)"; return false; }
    auto xml = stateXml (component);
    if (xml == nullptr || ! xml->hasTagName ("NNPLUG"))
    {
        component.reset();
        whyNot = "not an nnplug state";
        return false;
    }
    if (name.isEmpty())
        name = file.getFileNameWithoutExtension();
    return true;
}

void PresetLibrary::addFrom (const juce::File& dir, bool factory, bool recursive)
{
    if (! dir.isDirectory())
        return;
    auto files = dir.findChildFiles (juce::File::findFiles, recursive, "*.vstpreset");
    // Stable order: factory presets by file name, user presets by relative path.
    std::sort (files.begin(), files.end(), [&dir] (const juce::File& a, const juce::File& b)
               { return a.getRelativePathFrom (dir).compareNatural (b.getRelativePathFrom (dir)) < 0; });
    int taken = 0;
    for (const auto& f : files)
    {
        if (taken >= kMaxFiles)
            break;
        if (f.isSymbolicLink())
            continue;
        juce::MemoryBlock state;
        juce::String name, why;
        if (! readVstPreset (f, state, name, why))
            continue;
        presets.add ({ name, f, factory });
        ++taken;
    }
}

void PresetLibrary::scan (const juce::File& bundleDir, const juce::File& userDir)
{
    presets.clear();
    addFrom (bundleDir, true, false);
    if (userDir != juce::File() && userDir != bundleDir)
        addFrom (userDir, false, true);
}

PresetLibrary PresetLibrary::scanned()
{
    PresetLibrary lib;
    lib.scan (bundlePresetsDir(), userPresetsDir());
    return lib;
}

const PresetFile* PresetLibrary::get (int index) const
{
    return juce::isPositiveAndBelow (index, presets.size()) ? &presets.getReference (index) : nullptr;
}

juce::MemoryBlock PresetLibrary::load (int index) const
{
    juce::MemoryBlock state;
    if (auto* p = get (index))
    {
        juce::String name, why;
        if (! readVstPreset (p->file, state, name, why))
            state.reset();
    }
    return state;
}

juce::File PresetLibrary::bundlePresetsDir()
{
    // As for the models: <bundle>.vst3/Contents/<arch>/nnplug.so -> Contents/Resources/presets,
    // <bundle>.lv2/nnplug.so or the Standalone -> Resources/presets next to the binary.
    const auto binary = juce::File::getSpecialLocation (juce::File::currentExecutableFile);
    const auto contents = binary.getParentDirectory().getParentDirectory().getChildFile ("Resources/presets");
    if (contents.isDirectory())
        return contents;
    return binary.getParentDirectory().getChildFile ("Resources/presets");
}

juce::File PresetLibrary::userPresetsDir()
{
    const auto overrideDir = juce::SystemStats::getEnvironmentVariable ("NNPLUG_USER_PRESET_DIR", {});
    if (overrideDir.isNotEmpty())
        return juce::File::isAbsolutePath (overrideDir) ? juce::File (overrideDir) : juce::File();
    const juce::String tail = juce::String (JucePlugin_Manufacturer) + "/" + juce::String (JucePlugin_Name);
    const auto home = juce::File::getSpecialLocation (juce::File::userHomeDirectory);
   #if JUCE_MAC
    return home.getChildFile ("Library/Audio/Presets/" + tail);
   #elif JUCE_WINDOWS
    return juce::File::getSpecialLocation (juce::File::userDocumentsDirectory).getChildFile ("VST3 Presets/" + tail);
   #else
    return home.getChildFile (".vst3/presets/" + tail);
   #endif
}

} // namespace nnplug
