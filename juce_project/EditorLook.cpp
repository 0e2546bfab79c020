#include "EditorLook.h"

namespace nnplug::look {

LookAndFeel::LookAndFeel()
{
    setColour (juce::ResizableWindow::backgroundColourId, background);
    setColour (juce::Label::textColourId, text);
    setColour (juce::TextButton::buttonColourId, panelEdge);
    setColour (juce::TextButton::textColourOffId, text);
    setColour (juce::TextButton::textColourOnId, text);
    setColour (juce::ComboBox::backgroundColourId, panel.brighter (0.06f));
    setColour (juce::ComboBox::textColourId, text);
    setColour (juce::ComboBox::outlineColourId, panelEdge);
    setColour (juce::ComboBox::arrowColourId, dim);
    setColour (juce::PopupMenu::backgroundColourId, panel);
    setColour (juce::PopupMenu::textColourId, text);
    setColour (juce::PopupMenu::headerTextColourId, dim);
    setColour (juce::PopupMenu::highlightedBackgroundColourId, accent.withAlpha (0.25f));
    setColour (juce::PopupMenu::highlightedTextColourId, text);
    setColour (juce::Slider::textBoxTextColourId, text);
    setColour (juce::Slider::textBoxOutlineColourId, juce::Colours::transparentBlack);
    setColour (juce::Slider::rotarySliderFillColourId, accent);
    setColour (juce::Slider::trackColourId, accent);
    setColour (juce::TooltipWindow::backgroundColourId, panel.brighter (0.1f));
    setColour (juce::TooltipWindow::textColourId, text);
    setColour (juce::TooltipWindow::outlineColourId, panelEdge);
    setColour (juce::AlertWindow::backgroundColourId, panel);
    setColour (juce::AlertWindow::textColourId, text);
    setColour (juce::TextEditor::backgroundColourId, background);
    setColour (juce::TextEditor::textColourId, text);
    setColour (juce::TextEditor::outlineColourId, panelEdge);
}

void LookAndFeel::drawRotarySlider (juce::Graphics& g, int x, int y, int w, int h, float pos, float start, float end,
                                    juce::Slider& s)
{
    const auto area = juce::Rectangle<int> (x, y, w, h).toFloat().reduced (3.0f);
    const float radius = juce::jmin (area.getWidth(), area.getHeight()) * 0.5f;
    const auto c = area.getCentre();
    const float angle = start + pos * (end - start);
    const float thick = juce::jmax (2.5f, radius * 0.16f);
    const auto colour = s.findColour (juce::Slider::rotarySliderFillColourId);

    juce::Path track;
    track.addCentredArc (c.x, c.y, radius - thick, radius - thick, 0, start, end, true);
    g.setColour (panelEdge.brighter (0.15f));
    g.strokePath (track, { thick, juce::PathStrokeType::curved, juce::PathStrokeType::rounded });

    // Bipolar ranges (gains in dB, bias) fill from the centre, the others from the start.
    const bool bipolar = s.getMinimum() < 0 && s.getMaximum() > 0;
    const float from = bipolar ? start + (float) s.valueToProportionOfLength (0.0) * (end - start) : start;
    juce::Path value;
    value.addCentredArc (c.x, c.y, radius - thick, radius - thick, 0, juce::jmin (from, angle), juce::jmax (from, angle), true);
    g.setColour (s.isEnabled() ? colour : idle);
    g.strokePath (value, { thick, juce::PathStrokeType::curved, juce::PathStrokeType::rounded });

    g.setColour (panel.brighter (0.12f));
    g.fillEllipse (juce::Rectangle<float> (radius * 1.1f, radius * 1.1f).withCentre (c));
    const auto tip = c.getPointOnCircumference (radius * 0.5f, angle);
    g.setColour (text);
    g.drawLine ({ c.getPointOnCircumference (radius * 0.18f, angle), tip }, 2.0f);
}

void LookAndFeel::drawLinearSlider (juce::Graphics& g, int x, int y, int w, int h, float pos, float, float,
                                    juce::Slider::SliderStyle style, juce::Slider& s)
{
    if (style != juce::Slider::LinearHorizontal)
        return LookAndFeel_V4::drawLinearSlider (g, x, y, w, h, pos, 0, 0, style, s);
    const auto r = juce::Rectangle<float> ((float) x, y + h * 0.5f - 2.5f, (float) w, 5.0f);
    g.setColour (panelEdge.brighter (0.15f));
    g.fillRoundedRectangle (r, 2.5f);
    const bool bipolar = s.getMinimum() < 0 && s.getMaximum() > 0;
    const float zero = bipolar ? x + (float) s.valueToProportionOfLength (0.0) * w : (float) x;
    const float lo = juce::jmin (zero, pos), hi = juce::jmax (zero, pos);
    g.setColour (s.findColour (juce::Slider::trackColourId));
    g.fillRoundedRectangle (r.withX (lo).withWidth (juce::jmax (2.0f, hi - lo)), 2.5f);
    g.setColour (text);
    g.fillEllipse (juce::Rectangle<float> (9.0f, 9.0f).withCentre ({ pos, r.getCentreY() }));
}

void LookAndFeel::drawButtonBackground (juce::Graphics& g, juce::Button& b, const juce::Colour& colour, bool over, bool down)
{
    auto r = b.getLocalBounds().toFloat().reduced (0.5f);
    auto fill = colour;
    if (b.getToggleState()) fill = accent.withAlpha (0.35f);
    if (over) fill = fill.brighter (0.12f);
    if (down) fill = fill.brighter (0.25f);
    g.setColour (fill);
    g.fillRoundedRectangle (r, 5.0f);
    g.setColour (panelEdge.brighter (0.2f));
    g.drawRoundedRectangle (r, 5.0f, 1.0f);
}

void LookAndFeel::drawComboBox (juce::Graphics& g, int w, int h, bool, int, int, int, int, juce::ComboBox& box)
{
    const auto r = juce::Rectangle<float> (0, 0, (float) w, (float) h).reduced (0.5f);
    g.setColour (box.findColour (juce::ComboBox::backgroundColourId));
    g.fillRoundedRectangle (r, 5.0f);
    g.setColour (box.findColour (juce::ComboBox::outlineColourId));
    g.drawRoundedRectangle (r, 5.0f, 1.0f);
    juce::Path arrow;
    const float ax = (float) w - 14.0f, ay = h * 0.5f;
    arrow.addTriangle (ax - 4.0f, ay - 2.0f, ax + 4.0f, ay - 2.0f, ax, ay + 3.0f);
    g.setColour (box.findColour (juce::ComboBox::arrowColourId));
    g.fillPath (arrow);
}

juce::Label* LookAndFeel::createSliderTextBox (juce::Slider& s)
{
    auto* l = LookAndFeel_V4::createSliderTextBox (s);
    l->setFont (juce::Font (11.5f));
    l->setColour (juce::Label::textColourId, dim);
    l->setColour (juce::Label::backgroundColourId, juce::Colours::transparentBlack);
    l->setColour (juce::Label::outlineColourId, juce::Colours::transparentBlack);
    return l;
}

void drawPanel (juce::Graphics& g, juce::Rectangle<float> area, const juce::String& title, juce::Colour titleColour)
{
    g.setColour (panel);
    g.fillRoundedRectangle (area, 8.0f);
    g.setColour (panelEdge);
    g.drawRoundedRectangle (area.reduced (0.5f), 8.0f, 1.0f);
    if (title.isNotEmpty())
    {
        g.setColour (titleColour);
        g.setFont (juce::Font (11.0f, juce::Font::bold).withExtraKerningFactor (0.08f));
        g.drawText (title.toUpperCase(), area.reduced (12.0f, 0).removeFromTop (24.0f), juce::Justification::centredLeft);
    }
}

} // namespace nnplug::look
