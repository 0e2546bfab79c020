#include "EditorWidgets.h"

#include <cmath>

namespace nnplug {

PlayState playStateOf (const PluginStatus& s, bool silenceOnFailure)
{
    if (s.loading)
        return PlayState::Loading;
    if (s.waitingPath.isNotEmpty())
        return PlayState::Waiting;
    if (s.failed || ! s.loaded)
        return silenceOnFailure ? PlayState::Failed : PlayState::PassingDry;
    return PlayState::Playing;
}

juce::String describe (PlayState p)
{
    switch (p)
    {
        case PlayState::Loading: return juce::String::fromUTF8 ("loading\xe2\x80\xa6");
        case PlayState::Playing: return "playing";
        case PlayState::PassingDry: return "passing dry";
        case PlayState::Failed: return "failed (silent)";
        case PlayState::Waiting: return "waiting for audio";
    }
    return {};
}

void StateLight::set (PlayState state, const juce::String& reason)
{
    if (state == PlayState::Loading)
        phase += 0.35f;
    if (state != current || state == PlayState::Loading)
    {
        current = state;
        repaint();
    }
    setTooltip (reason.isNotEmpty() ? reason + "\n(click for details)" : describe (state));
}

void StateLight::paint (juce::Graphics& g)
{
    using namespace look;
    const auto colour = current == PlayState::Playing ? ok
                      : current == PlayState::Loading ? warn
                      : current == PlayState::PassingDry ? juce::Colour (0xfff08a3c)
                      : current == PlayState::Failed ? bad : idle;
    auto r = getLocalBounds().toFloat();
    const auto dot = r.removeFromLeft (r.getHeight()).reduced (r.getHeight() * 0.22f);
    const float glow = current == PlayState::Loading ? 0.5f + 0.5f * std::sin (phase) : 1.0f;
    g.setColour (colour.withAlpha (0.25f * glow));
    g.fillEllipse (dot.expanded (3.0f));
    g.setColour (colour.withMultipliedAlpha (0.55f + 0.45f * glow));
    g.fillEllipse (dot);
    g.setColour (text);
    g.setFont (juce::Font (13.0f));
    g.drawText (describe (current), r.withTrimmedLeft (4.0f), juce::Justification::centredLeft, true);
}

void LevelMeter::push (float linearPeak)
{
    // Fast attack, ~20 dB/s release at 30 Hz, a peak held for a second.
    shown = juce::jmax (linearPeak, shown * 0.85f);
    if (linearPeak >= held) { held = linearPeak; holdFrames = 30; }
    else if (--holdFrames < 0) held = juce::jmax (shown, held * 0.9f);
    repaint();
}

void LevelMeter::paint (juce::Graphics& g)
{
    using namespace look;
    auto r = getLocalBounds().toFloat();
    const auto caption = r.removeFromBottom (14.0f);
    g.setColour (dim);
    g.setFont (juce::Font (10.0f, juce::Font::bold));
    g.drawText (name, caption, juce::Justification::centred);
    const auto bar = r.reduced (r.getWidth() * 0.2f, 1.0f);
    g.setColour (background);
    g.fillRoundedRectangle (bar, 2.0f);
    auto toY = [&] (float linear)
    {
        const float db = juce::Decibels::gainToDecibels (linear, -60.0f);
        return bar.getBottom() - bar.getHeight() * juce::jlimit (0.0f, 1.0f, (db + 60.0f) / 66.0f);
    };
    const float top = toY (shown);
    juce::ColourGradient grad (ok, 0, bar.getBottom(), bad, 0, bar.getY(), false);
    grad.addColour ((54.0 / 66.0), warn);   // -6 dBFS
    g.setGradientFill (grad);
    g.fillRect (bar.withTop (top));
    g.setColour (held > 1.0f ? bad : text.withAlpha (0.8f));
    g.fillRect (bar.getX(), toY (held) - 1.0f, bar.getWidth(), 2.0f);
    g.setColour (panelEdge);
    g.drawLine (bar.getX(), toY (1.0f), bar.getRight(), toY (1.0f), 1.0f);   // 0 dBFS
}

void LatentDisplay::push (const LatentMonitor& m, int controlled)
{
    shownDims = juce::jlimit (0, kLatentShown, m.dims.load (std::memory_order_relaxed));
    controlledDims = controlled;
    float peak = 0.0f;
    for (int d = 0; d < shownDims; ++d)
    {
        const float v = m.mean[(size_t) d].load (std::memory_order_relaxed);
        values[(size_t) d] = std::isfinite (v) ? v : 0.0f;
        peak = juce::jmax (peak, std::abs (values[(size_t) d]));
    }
    // The scale grows at once and shrinks slowly, so the bars do not breathe with each call.
    range = juce::jmax (1.0f, peak, range * 0.98f);
    repaint();
}

void LatentDisplay::paint (juce::Graphics& g)
{
    using namespace look;
    auto r = getLocalBounds().toFloat();
    g.setColour (background.withAlpha (0.6f));
    g.fillRoundedRectangle (r, 4.0f);
    const float mid = r.getCentreY();
    g.setColour (panelEdge.brighter (0.2f));
    g.drawHorizontalLine ((int) mid, r.getX() + 4, r.getRight() - 4);
    if (shownDims == 0)
        return;
    const float w = (r.getWidth() - 8.0f) / (float) shownDims;
    for (int d = 0; d < shownDims; ++d)
    {
        const float v = values[(size_t) d] / range;
        const float h = juce::jlimit (-1.0f, 1.0f, v) * (r.getHeight() * 0.5f - 3.0f);
        auto bar = juce::Rectangle<float> (r.getX() + 4.0f + d * w + w * 0.2f, h >= 0 ? mid - h : mid, w * 0.6f, std::abs (h));
        g.setColour (d < controlledDims ? latent : dim.withAlpha (0.7f));
        g.fillRect (bar.withHeight (juce::jmax (1.0f, bar.getHeight())));
    }
}

} // namespace nnplug
