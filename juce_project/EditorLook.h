// The editor's colours and drawing (a LookAndFeel_V4 with a dark palette, arc knobs, flat
// buttons): one place for the visual language so the components stay about behaviour.
#pragma once

#include <juce_gui_basics/juce_gui_basics.h>

namespace nnplug::look {

inline const juce::Colour background { 0xff15181d };
inline const juce::Colour panel { 0xff1e232a };
inline const juce::Colour panelEdge { 0xff2c333d };
inline const juce::Colour text { 0xffe6e9ee };
inline const juce::Colour dim { 0xff8b94a3 };
inline const juce::Colour accent { 0xff4fc3c9 };     // teal: values, the model's own controls
inline const juce::Colour latent { 0xffb58cf0 };     // violet: the latent space
inline const juce::Colour ok { 0xff4ccb6e };
inline const juce::Colour warn { 0xfff0b03c };
inline const juce::Colour bad { 0xffef5350 };
inline const juce::Colour idle { 0xff6b7480 };

class LookAndFeel final : public juce::LookAndFeel_V4
{
public:
    LookAndFeel();
    void drawRotarySlider (juce::Graphics&, int x, int y, int w, int h, float pos, float start, float end,
                           juce::Slider&) override;
    void drawLinearSlider (juce::Graphics&, int x, int y, int w, int h, float pos, float minPos, float maxPos,
                           juce::Slider::SliderStyle, juce::Slider&) override;
    void drawButtonBackground (juce::Graphics&, juce::Button&, const juce::Colour&, bool over, bool down) override;
    void drawComboBox (juce::Graphics&, int w, int h, bool down, int bx, int by, int bw, int bh, juce::ComboBox&) override;
    juce::Font getComboBoxFont (juce::ComboBox&) override { return juce::Font (13.0f); }
    juce::Font getTextButtonFont (juce::TextButton&, int) override { return juce::Font (13.0f); }
    juce::Label* createSliderTextBox (juce::Slider&) override;
};

// A rounded panel with a small caps title, behind a group of controls.
void drawPanel (juce::Graphics&, juce::Rectangle<float> area, const juce::String& title, juce::Colour titleColour = dim);

} // namespace nnplug::look
