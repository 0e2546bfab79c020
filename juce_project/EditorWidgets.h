// Small editor components: the state light and the level meters.
#pragma once

#include "EditorLook.h"
#include "LatentControls.h"
#include "StateCodec.h"

#include <juce_gui_basics/juce_gui_basics.h>

#include <functional>

namespace nnplug {

// What the plugin is doing, as one of four states a light shows (and tests read).
enum class PlayState { Loading, Playing, PassingDry, Failed, Waiting };

// From the status and the on-failure setting: a model that failed passes the dry signal
// (PassingDry) unless the setting says silence (Failed).
PlayState playStateOf (const PluginStatus& s, bool silenceOnFailure);
juce::String describe (PlayState);

// A round light with the state's word beside it; the reason in its tooltip, and on a click
// (onClick) the details.
class StateLight final : public juce::Component, public juce::SettableTooltipClient
{
public:
    void set (PlayState state, const juce::String& reason);
    PlayState state() const { return current; }
    std::function<void()> onClick;
    void paint (juce::Graphics&) override;
    void mouseUp (const juce::MouseEvent&) override { if (onClick) onClick(); }

private:
    PlayState current = PlayState::Waiting;
    float phase = 0;   // the loading light pulses
};

// A vertical peak meter with a held peak, in dBFS from -60 to +6; fed by the editor's timer.
class LevelMeter final : public juce::Component, public juce::SettableTooltipClient
{
public:
    explicit LevelMeter (juce::String label) : name (std::move (label)) {}
    void push (float linearPeak);   // display rate
    float level() const { return shown; }
    void paint (juce::Graphics&) override;

private:
    juce::String name;
    float shown = 0, held = 0;
    int holdFrames = 0;
};

// The latents decode receives, live: one bar per dimension (up to kLatentShown) around zero;
// the ones the scale/bias controls reach are drawn in the latent colour.
class LatentDisplay final : public juce::Component, public juce::SettableTooltipClient
{
public:
    void push (const LatentMonitor& m, int controlled);   // display rate
    int dims() const { return shownDims; }
    void paint (juce::Graphics&) override;

private:
    std::array<float, kLatentShown> values {};
    int shownDims = 0, controlledDims = 0;
    float range = 1.0f;   // follows the largest magnitude, slowly
};

} // namespace nnplug
