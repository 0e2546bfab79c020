#include "PluginProcessor.h"
#include "PluginEditor.h"

#include <optional>

namespace {

// The current thread runs processBlock (and is not the message thread): changes requested
// from here must not load anything.
thread_local bool tlsAudioThread = false;
thread_local bool tlsInProcessBlock = false;

bool onAudioThread()
{
    return tlsAudioThread && ! juce::MessageManager::existsAndIsCurrentThread();
}

} // namespace

NnplugProcessor::NnplugProcessor()
    : AudioProcessor (BusesProperties()
                          .withInput ("Input", juce::AudioChannelSet::stereo(), true)
                          .withOutput ("Output", juce::AudioChannelSet::stereo(), true)),
      apvts (*this, nullptr, nnplug::kStateTag, nnplug::createParameterLayout()),
      loader (*this, apvts, engines, controls)
{
    // No model is loaded here: hosts create throw-away instances to scan plugins.
    for (auto* id : nnplug::structuralParameters)
        apvts.addParameterListener (id, this);
    nnplug::readControls (apvts, controls);
}

NnplugProcessor::~NnplugProcessor()
{
    for (auto* id : nnplug::structuralParameters)
        apvts.removeParameterListener (id, this);
}

void NnplugProcessor::parameterChanged (const juce::String& id, float)
{
    if (nnplug::isStructural (id) && ! restoringState)
        loader.structureChanged (onAudioThread() || structureFromEditor.load());
}

void NnplugProcessor::prepareToPlay (double sampleRate, int samplesPerBlock)
{
    // The old stream's last model calls finish before a rebuild's warm-up saves and reseeds
    // torch's generator, so that none of their draws lands inside that window.
    loader.waitForInference();
    loader.prepare (sampleRate, samplesPerBlock, std::max (getTotalNumInputChannels(), getTotalNumOutputChannels()));
}

void NnplugProcessor::reset()
{
    // A stream restart is a sync point: a rebuild asked for from the audio thread finishes
    // first, so that the restarted stream (and the latency the host reads) uses it, and the
    // worker thread finishes the old stream's last buffers, so that none of its model calls
    // (nor their draws from torch's generator) comes after. Hosts call reset() outside the
    // real-time callback.
    if (! tlsInProcessBlock)
    {
        loader.waitUntilIdle();
        loader.waitForInference();
    }
    engines.requestRestart();
}

bool NnplugProcessor::isBusesLayoutSupported (const BusesLayout& layouts) const
{
    const auto& out = layouts.getMainOutputChannelSet();
    if (out != juce::AudioChannelSet::mono() && out != juce::AudioChannelSet::stereo())
        return false;
    return layouts.getMainInputChannelSet() == out;
}

void NnplugProcessor::render (juce::AudioBuffer<float>& buffer, bool bypassed)
{
    // No ScopedNoDenormals: the model must see the same floating-point environment as torch
    // in Python, or renders would not be bit-identical.
    tlsAudioThread = true;
    struct InBlock { InBlock() { tlsInProcessBlock = true; } ~InBlock() { tlsInProcessBlock = false; } } inBlock;
    const int numSamples = buffer.getNumSamples();
    for (auto i = getTotalNumInputChannels(); i < getTotalNumOutputChannels(); ++i)
        buffer.clear (i, 0, numSamples);
    if (numSamples == 0)
        return;

    const bool offline = isNonRealtime();
    if (offline)
        loader.waitUntilIdle();   // offline renders must not depend on timing

    // A DAW's offline render (export, bounce, freewheel) is one stream from where it starts.
    // Otherwise what the model's caches hold, and the phase of its strides, would depend on how
    // long the plugin ran before (idle blocks while the session loaded, earlier exports), and the
    // same session would export different bits each time (tests/python/test_ardour.py exports a
    // saved session twice). In an offline render the stream restarts where the timeline does not
    // continue the last block: a position jump, a first position after blocks without one, or
    // the transport starting anywhere but where the last block ended. Ardour, for one, plays its
    // latency pre-roll into a VST3 with the transport rolling from the pre-roll's start, but into
    // an LV2 with the transport stopped and the position advancing, starting it only at the
    // session's start (a continuation there). A stopped transport that repeats its position is
    // no jump. Live playback keeps its stream; hosts without a position (pedalboard) are unaffected.
    std::optional<int64_t> position;
    bool playing = false;
    if (auto* head = getPlayHead())
        if (auto info = head->getPosition())
        {
            playing = info->getIsPlaying();
            if (auto samples = info->getTimeInSamples())
                position = *samples;
        }
    const bool continues = position && lastPosition && *position == *lastPosition + lastBlock;
    const bool repeats = position && lastPosition && *position == *lastPosition;
    const bool jumps = position && ! continues && ! repeats;
    if (offline && (jumps || (playing && ! wasPlaying && ! continues)))
        engines.requestRestart();
    lastPosition = position;
    lastBlock = numSamples;
    wasPlaying = playing;

    nnplug::readControls (apvts, controls);
    controls.bypass.store (bypassed);
    if (! bypassed && engines.current() == nullptr && loader.failedToLoad()
        && controls.failure.load() == (int) nnplug::FailureMode::Silence)
    {
        buffer.clear();
        return;
    }
    inputMeter.push (buffer, getTotalNumInputChannels());
    engines.process (buffer.getArrayOfWritePointers(), buffer.getNumChannels(), numSamples, offline);
    outputMeter.push (buffer, getTotalNumOutputChannels());
}

double NnplugProcessor::getTailLengthSeconds() const
{
    // After the input stops the model still emits its delayed output: latency plus a buffer.
    const double rate = getSampleRate() > 0 ? getSampleRate() : 44100.0;
    if (auto* e = engines.current())
        return (e->latency() + e->bufferSize()) / rate;
    return 0.0;
}

void NnplugProcessor::setCurrentProgram (int index)
{
    const auto state = programs.load (index);
    if (state.isEmpty())
        return;
    currentProgram = index;
    setStateInformation (state.getData(), (int) state.getSize());
}

const juce::String NnplugProcessor::getProgramName (int index)
{
    // Never empty: with no presets installed the one program a host lists is the plugin's
    // defaults, and hosts (Steinberg's validator) reject a program without a name.
    auto* p = programs.get (index);
    return p != nullptr && p->name.isNotEmpty() ? p->name : juce::String ("Default");
}

void NnplugProcessor::getStateInformation (juce::MemoryBlock& destData)
{
    nnplug::writeState (apvts, loader.savedModel(), loader.status(), destData);
}

void NnplugProcessor::setStateInformation (const void* data, int sizeInBytes)
{
    // Anything we do not recognise is rejected as a whole or ignored field by field; the
    // current values stay, and the status (state_message) says what was ignored.
    restoringState = true;
    const auto state = nnplug::readState (data, sizeInBytes, apvts);
    restoringState = false;
    if (state.rejected.isNotEmpty())
        loader.rejectState (state.rejected);
    else
        loader.restore (state);
}

bool NnplugProcessor::saveUserPreset (const juce::String& name, juce::String& whyNot)
{
    const auto clean = juce::File::createLegalFileName (name.trim());
    const auto dir = nnplug::PresetLibrary::userPresetsDir();
    if (clean.isEmpty() || dir == juce::File())
    {
        whyNot = clean.isEmpty() ? "the preset needs a name" : "no user preset folder";
        return false;
    }
    juce::MemoryBlock state;
    getStateInformation (state);
    if (! nnplug::writeVstPreset (dir.getChildFile (clean + ".vstpreset"), state, name.trim(), nnplug::vst3ClassId(), whyNot))
        return false;
    programs = nnplug::PresetLibrary::scanned();
    currentProgram = juce::jmax (0, findProgram (name.trim()));
    updateHostDisplay (ChangeDetails().withProgramChanged (true));
    return true;
}

void NnplugProcessor::setStructuralFromEditor (const juce::String& id, int index)
{
    auto* param = apvts.getParameter (id);
    if (param == nullptr)
        return;
    structureFromEditor.store (true);
    param->beginChangeGesture();
    param->setValueNotifyingHost (param->convertTo0to1 ((float) index));
    param->endChangeGesture();
    structureFromEditor.store (false);
}

int NnplugProcessor::findProgram (const juce::String& name) const
{
    for (int i = 0; i < programs.size(); ++i)
        if (programs.get (i)->name == name)
            return i;
    return -1;
}

juce::AudioProcessorEditor* NnplugProcessor::createEditor()
{
    return new NnplugEditor (*this);
}

juce::AudioProcessor* JUCE_CALLTYPE createPluginFilter()
{
    return new NnplugProcessor();
}
