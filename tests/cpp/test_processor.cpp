// The JUCE processor itself (juce_project/, linked from the plugin's shared code), driven the
// way a hostile host would: thousands of random and mutated state blobs, every file of the
// hostile model corpus, and a torture session (block sizes 0/1/odd/huge, sample-rate and
// layout changes, prepare/release repeated, reset, bypass, automation on every block, model
// swaps from another thread while rendering). Never a crash; output finite; the status in
// the state reports what went wrong; the latency report stays true.
#include "PluginProcessor.h"
#include "Json.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <iostream>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

namespace {

const juce::String models = NNPLUG_TEST_MODELS;
int stateBlobsTried = 0;

std::unique_ptr<NnplugProcessor> makeProcessor (double rate = 44100, int block = 512, int channels = 2)
{
    auto p = std::make_unique<NnplugProcessor>();
    const auto set = channels == 1 ? juce::AudioChannelSet::mono() : juce::AudioChannelSet::stereo();
    juce::AudioProcessor::BusesLayout layout;
    layout.inputBuses.add (set);
    layout.outputBuses.add (set);
    EXPECT_TRUE (p->setBusesLayout (layout));
    p->setRateAndBufferSizeDetails (rate, block);
    p->prepareToPlay (rate, block);
    return p;
}

std::unique_ptr<juce::XmlElement> stateXml (NnplugProcessor& p)
{
    juce::MemoryBlock mb;
    p.getStateInformation (mb);
    return juce::AudioProcessor::getXmlFromBinary (mb.getData(), (int) mb.getSize());
}

juce::MemoryBlock blobOf (const juce::XmlElement& xml)
{
    juce::MemoryBlock mb;
    juce::AudioProcessor::copyXmlToBinary (xml, mb);
    return mb;
}

// Parameters as saved (STATUS and model fields left out): what "the state kept" compares.
juce::String paramsOf (NnplugProcessor& p)
{
    juce::String s;
    for (auto* param : p.getParameters())
        s << param->getValue() << ";";
    return s;
}

// Renders `blocks` blocks of noise; returns false when an output sample is not finite.
bool renderFinite (NnplugProcessor& p, int blocks, int size, std::mt19937& rng, juce::AudioBuffer<float>* keepIn = nullptr,
                   juce::AudioBuffer<float>* keepOut = nullptr)
{
    std::normal_distribution<float> d (0.0f, 0.1f);
    juce::MidiBuffer midi;
    for (int b = 0; b < blocks; ++b)
    {
        juce::AudioBuffer<float> buf (p.getTotalNumOutputChannels(), size);
        for (int ch = 0; ch < buf.getNumChannels(); ++ch)
            for (int t = 0; t < size; ++t) buf.setSample (ch, t, d (rng));
        if (keepIn) *keepIn = buf;
        p.processBlock (buf, midi);
        if (keepOut) *keepOut = buf;
        for (int ch = 0; ch < buf.getNumChannels(); ++ch)
            for (int t = 0; t < size; ++t)
                if (! std::isfinite (buf.getSample (ch, t))) return false;
    }
    return true;
}

bool matches (const juce::String& text, const std::string& pattern)
{
    return std::regex_search (text.toStdString(), std::regex (pattern, std::regex::icase));
}

} // namespace

// ---- state fuzzing ---------------------------------------------------------------------------

TEST (StateFuzz, SeedsReportTheirErrors)
{
    std::mt19937 rng (1);
    auto p = makeProcessor();
    auto xml = stateXml (*p);
    ASSERT_NE (xml, nullptr);
    xml->setAttribute ("model_path", models + "/delay_stereo.ts");
    xml->setAttribute ("model_sha256", "");
    p->setStateInformation (blobOf (*xml).getData(), (int) blobOf (*xml).getSize());
    ASSERT_TRUE (renderFinite (*p, 4, 512, rng));
    auto status = p->getStatus();
    EXPECT_TRUE (status.loaded && ! status.failed) << status.message;
    auto good = stateXml (*p);
    ASSERT_NE (good->getChildByName ("STATUS"), nullptr);
    EXPECT_EQ (good->getChildByName ("STATUS")->getIntAttribute ("loaded"), 1);

    auto variant = [&] (const char* attr, const juce::String& value)
    {
        auto x = std::make_unique<juce::XmlElement> (*good);
        x->setAttribute (attr, value);
        const auto mb = blobOf (*x);
        p->setStateInformation (mb.getData(), (int) mb.getSize());
        ++stateBlobsTried;
        juce::AudioBuffer<float> in, out;
        EXPECT_TRUE (renderFinite (*p, 3, 512, rng, &in, &out));
        return std::make_pair (p->getStatus(), std::make_pair (in, out));
    };
    // a path that does not exist: the error is reported, the dry signal passes, and the state
    // keeps the path (a missing drive must not lose the project's model reference)
    auto [missing, io] = variant ("model_path", "/nonexistent/dir/model.ts");
    EXPECT_TRUE (missing.failed);
    EXPECT_TRUE (matches (missing.message, "not found")) << missing.message;
    for (int t = 0; t < 512; ++t) ASSERT_EQ (io.second.getSample (0, t), io.first.getSample (0, t));
    EXPECT_EQ (stateXml (*p)->getStringAttribute ("model_path"), "/nonexistent/dir/model.ts");
    // a path to a bad model
    auto bad = variant ("model_path", models + "/bad/nan.ts").first;
    EXPECT_TRUE (bad.failed);
    EXPECT_TRUE (matches (bad.message, "NaN")) << bad.message;
    // the right model with a wrong sha256: loads with a warning
    auto sha = variant ("model_sha256", juce::String::repeatedString ("ab", 32)).first;
    EXPECT_FALSE (sha.failed);
    EXPECT_TRUE (matches (sha.message, "sha256 mismatch")) << sha.message;
    // wrong types / not a sha / a relative path: the fields are ignored, and said so
    auto typed = variant ("model_sha256", "not-a-sha").first;
    EXPECT_TRUE (matches (typed.stateMessage, "model_sha256")) << typed.stateMessage;
    auto rel = variant ("model_path", "relative/model.ts").first;
    EXPECT_TRUE (matches (rel.stateMessage, "model_path")) << rel.stateMessage;
    auto future = variant ("version", "99").first;
    EXPECT_TRUE (matches (future.stateMessage, "version 99 is not supported")) << future.stateMessage;
    // back to the good state: everything well again
    const auto mb = blobOf (*good);
    p->setStateInformation (mb.getData(), (int) mb.getSize());
    ASSERT_TRUE (renderFinite (*p, 3, 512, rng));
    status = p->getStatus();
    EXPECT_TRUE (status.loaded && ! status.failed && status.stateMessage.isEmpty()) << status.message << status.stateMessage;
}

TEST (StateFuzz, ThousandsOfRandomAndMutatedBlobs)
{
    std::mt19937 rng (7);
    auto p = makeProcessor (44100, 256);
    // real saved states as seeds: good, with each parameter moved, with bad paths
    std::vector<juce::MemoryBlock> seeds;
    {
        auto x = stateXml (*p);
        x->setAttribute ("model_path", models + "/delay_mono.ts");
        seeds.push_back (blobOf (*x));
        p->setStateInformation (seeds.back().getData(), (int) seeds.back().getSize());
        renderFinite (*p, 2, 256, rng);
        auto saved = stateXml (*p);
        for (auto* param : saved->getChildWithTagNameIterator ("PARAM"))
            param->setAttribute ("value", param->getDoubleAttribute ("value") * 0.5 + 0.1);
        seeds.push_back (blobOf (*saved));
        for (auto path : { models + "/missing.ts", models + "/bad/raises.ts", models + "/corrupt.ts", juce::String() })
        {
            auto v = std::make_unique<juce::XmlElement> (*saved);
            v->setAttribute ("model_path", path);
            seeds.push_back (blobOf (*v));
        }
    }
    const char* junkValues[] = { "", "nan", "inf", "-inf", "1e999", "-1e999", "abc", "0x10", "1,5", "  ", "\xff\xfe",
                                 "99999999999999999999", "-0", "1e-45", "<x/>", "&amp;" };
    const int total = 3000;
    int rejected = 0, accepted = 0;
    for (int i = 0; i < total; ++i)
    {
        juce::MemoryBlock blob = seeds[(size_t) rng() % seeds.size()];
        const int kind = (int) (rng() % 8);
        auto* bytes = static_cast<unsigned char*> (blob.getData());
        const int size = (int) blob.getSize();
        switch (kind)
        {
            case 0: blob.setSize ((size_t) (rng() % (unsigned) size)); break;                       // truncated
            case 1: for (int k = 0; k < 1 + (int) (rng() % 8); ++k) bytes[rng() % (unsigned) size] ^= (unsigned char) (1u << (rng() % 8)); break;  // bit flips
            case 2: { juce::MemoryBlock r ((size_t) (rng() % 3000)); for (size_t k = 0; k < r.getSize(); ++k) r[k] = (char) rng(); blob = r; break; }
            case 3: if (size > 8) { const uint32_t claimed = (uint32_t) rng(); std::memcpy (bytes + 4, &claimed, 4); } break;  // size field
            default:
            {
                // XML-level: wrong types, missing/extra/duplicated fields, odd structure
                auto x = juce::AudioProcessor::getXmlFromBinary (blob.getData(), size);
                if (x == nullptr) break;
                for (auto* e : x->getChildWithTagNameIterator ("PARAM"))
                {
                    const int what = (int) (rng() % 6);
                    if (what == 0) e->setAttribute ("value", junkValues[rng() % std::size (junkValues)]);
                    else if (what == 1) e->setAttribute ("value", (double) (rng() % 2000000) - 1e6);
                    else if (what == 2) e->setAttribute ("id", junkValues[rng() % std::size (junkValues)]);
                    else if (what == 3) e->removeAttribute ("value");
                }
                if (rng() % 3 == 0) x->setAttribute ("version", junkValues[rng() % std::size (junkValues)]);
                if (rng() % 3 == 0) x->setAttribute ("model_sha256", rng() % 2 ? "zz" : juce::String::repeatedString ("0", 64));
                if (rng() % 4 == 0) x->setAttribute ("model_path", rng() % 2 ? "/dev/null" : "/");
                if (rng() % 4 == 0) x->addChildElement (new juce::XmlElement (*x->getChildElement (0)));   // duplicate
                if (rng() % 5 == 0) x->setTagName ("OTHER");
                if (rng() % 5 == 0)
                {
                    auto* deep = x->createNewChildElement ("A");
                    for (int k = 0; k < 5000; ++k) deep = deep->createNewChildElement ("A");   // nesting bomb
                }
                blob = blobOf (*x);
            }
        }
        const auto before = paramsOf (*p);
        p->setStateInformation (blob.getData(), (int) blob.getSize());
        ++stateBlobsTried;
        const auto status = p->getStatus();
        if (status.stateMessage.startsWith ("state ignored"))
        {
            ++rejected;
            ASSERT_EQ (paramsOf (*p), before) << "a rejected state changed parameters (blob " << i << ")";
        }
        else
            ++accepted;
        for (auto* param : p->getParameters())
            ASSERT_TRUE (std::isfinite (param->getValue()) && param->getValue() >= 0.0f && param->getValue() <= 1.0f);
        ASSERT_TRUE (renderFinite (*p, 1, 1 + (int) (rng() % 600), rng)) << "blob " << i;
        // A new engine waits for a crossfade in progress to end and the old engine to be
        // collected (getStatus collects): a few blocks later it is heard.
        auto after = p->getStatus();
        for (int k = 0; k < 40 && ! after.loaded && after.message.isEmpty(); ++k)
        {
            ASSERT_TRUE (renderFinite (*p, 1, 64, rng)) << "blob " << i;
            after = p->getStatus();
        }
        if (! after.loaded && after.message.isEmpty() && after.stateMessage.isEmpty())
            FAIL() << "no model and no reason given (blob " << i << "): "
                   << juce::String::fromUTF8 (static_cast<const char*> (blob.getData()) + 8,
                                              juce::jmax (0, (int) blob.getSize() - 8)).substring (0, 300);
    }
    std::cout << "[ robustness ] state blobs: " << total << " mutated/random (" << rejected << " rejected, " << accepted
              << " used), " << stateBlobsTried << " in all in this binary\n";
    EXPECT_GT (rejected, total / 10);
    EXPECT_GT (accepted, total / 10);
}

// ---- hostile model files through the processor ------------------------------------------------

TEST (BadModels, ProcessorReportsAndPassesDry)
{
    std::ifstream f ((models + "/bad/corpus.json").toStdString());
    std::stringstream ss;
    ss << f.rdbuf();
    std::mt19937 rng (3);
    int tried = 0;
    const auto doc = nnplug::Json::parse (ss.str());
    for (const auto& c : doc.items())
    {
        SCOPED_TRACE (c["name"].str());
        ++tried;
        auto p = makeProcessor();
        p->loadModel (models + "/bad/" + juce::String (c["file"].str()));
        juce::AudioBuffer<float> in, out;
        for (int b = 0; b < 40; ++b)
            ASSERT_TRUE (renderFinite (*p, 1, 512, rng, &in, &out));
        const auto s = p->getStatus();
        EXPECT_TRUE (matches (s.message, c["plugin_error"].str())) << s.message;
        if (c["phase"].str() == "warning")   // played, with the warning in the status
        {
            EXPECT_TRUE (s.loaded && ! s.failed);
            continue;
        }
        EXPECT_TRUE (s.failed);
        const int L = c["phase"].str() == "load" ? 0 : -1;
        if (L == 0)   // refused: no engine, the input passes untouched
        {
            for (int t = 0; t < 512; ++t) ASSERT_EQ (out.getSample (1, t), in.getSample (1, t));
        }
        auto x = stateXml (*p);
        ASSERT_NE (x->getChildByName ("STATUS"), nullptr);
        EXPECT_EQ (x->getChildByName ("STATUS")->getIntAttribute ("failed"), 1);
    }
    std::cout << "[ robustness ] bad-model files through the processor: " << tried << "\n";
}

// ---- host torture ------------------------------------------------------------------------------

namespace {

// An impulse through a processor at unity: the peak must sit at the reported latency.
int impulsePeak (NnplugProcessor& p, int block)
{
    p.reset();
    const int total = p.getLatencySamples() + 8192;
    juce::AudioBuffer<float> all (p.getTotalNumOutputChannels(), total);
    all.clear();
    for (int ch = 0; ch < all.getNumChannels(); ++ch) all.setSample (ch, 100, 1.0f);
    juce::MidiBuffer midi;
    for (int pos = 0; pos < total; pos += block)
    {
        const int n = std::min (block, total - pos);
        juce::AudioBuffer<float> view (all.getArrayOfWritePointers(), all.getNumChannels(), pos, n);
        p.processBlock (view, midi);
    }
    int peak = 0;
    for (int t = 0; t < total; ++t)
        if (std::abs (all.getSample (0, t)) > std::abs (all.getSample (0, peak))) peak = t;
    return peak - 100;
}

void setParam (NnplugProcessor& p, const juce::String& id, float plain)
{
    auto* param = p.parameters().getParameter (id);
    param->setValueNotifyingHost (param->convertTo0to1 (plain));
}

} // namespace

TEST (HostTorture, ProcessorSurvivesAndLatencyStaysTrue)
{
    std::mt19937 rng (11);
    std::uniform_real_distribution<float> u (0.0f, 1.0f);
    auto p = std::make_unique<NnplugProcessor>();
    p->loadModel (models + "/delay_mono.ts");
    const double rates[] = { 44100, 48000, 22050, 96000, 44100 };
    const int blockSizes[] = { 0, 1, 2, 3, 17, 64, 127, 512, 1023, 1024, 1025, 4096, 5000 };
    int blocks = 0;
    for (int session = 0; session < 10; ++session)
    {
        const double rate = rates[(size_t) session % std::size (rates)];
        const int channels = session % 3 == 2 ? 1 : 2;
        const int announced = blockSizes[(size_t) (3 + rng() % 9)];
        p->releaseResources();
        juce::AudioProcessor::BusesLayout layout;
        const auto set = channels == 1 ? juce::AudioChannelSet::mono() : juce::AudioChannelSet::stereo();
        layout.inputBuses.add (set);
        layout.outputBuses.add (set);
        ASSERT_TRUE (p->setBusesLayout (layout));
        p->setRateAndBufferSizeDetails (rate, announced);
        p->prepareToPlay (rate, announced);
        if (session % 2) { p->releaseResources(); p->prepareToPlay (rate, announced); }   // repeated

        std::atomic<bool> swapping { session % 4 == 1 };
        std::thread swapper ([&] {
            for (int k = 0; swapping && k < 4; ++k)
            {
                p->loadModel (models + (k % 2 ? "/delay_stereo.ts" : "/delay_mono.ts"));
                std::this_thread::sleep_for (std::chrono::milliseconds (15));
            }
        });
        juce::MidiBuffer midi;
        for (int i = 0; i < 150; ++i, ++blocks)
        {
            const int n = blockSizes[rng() % std::size (blockSizes)];
            juce::AudioBuffer<float> buf (channels, std::max (n, 1));
            buf.setSize (channels, n, false, false, true);
            for (int ch = 0; ch < channels; ++ch)
                for (int t = 0; t < n; ++t) buf.setSample (ch, t, 0.5f * (u (rng) - 0.5f));
            setParam (*p, ParamID::inputGain, 48.0f * u (rng) - 24.0f);
            setParam (*p, ParamID::outputGain, 48.0f * u (rng) - 24.0f);
            setParam (*p, ParamID::dryWet, 100.0f * u (rng));
            setParam (*p, ParamID::latentScale (0), 8.0f * u (rng) - 4.0f);
            if (i % 37 == 0) p->reset();
            if (i % 5 == 0) p->processBlockBypassed (buf, midi);
            else p->processBlock (buf, midi);
            for (int ch = 0; ch < channels; ++ch)
                for (int t = 0; t < n; ++t)
                    ASSERT_TRUE (std::isfinite (buf.getSample (ch, t))) << "session " << session << " block " << i;
        }
        swapping = false;
        swapper.join();
        // the latency report stays true: at unity, one model, an impulse
        p->loadModel (models + "/delay_mono.ts");
        for (auto id : { ParamID::inputGain, ParamID::outputGain }) setParam (*p, id, 0.0f);
        setParam (*p, ParamID::dryWet, 100.0f);
        setParam (*p, ParamID::latentScale (0), 1.0f);
        juce::AudioBuffer<float> settle (channels, 4096);
        settle.clear();
        p->processBlock (settle, midi);   // takes the new engine, settles the gain ramps
        ASSERT_TRUE (p->getStatus().loaded) << p->getStatus().message;
        const int peak = impulsePeak (*p, 100);
        if (rate == 44100)
            EXPECT_EQ (peak, p->getLatencySamples()) << "rate " << rate;
        else   // resampled: the impulse response is a windowed sinc centred on the latency
            EXPECT_LE (std::abs (peak - p->getLatencySamples()), 1) << "rate " << rate;
    }
    std::cout << "[ robustness ] processor torture: 10 sessions, " << blocks << " blocks\n";
}

int main (int argc, char** argv)
{
    juce::ScopedJuceInitialiser_GUI juce;
    ::testing::InitGoogleTest (&argc, argv);
    return RUN_ALL_TESTS();
}
