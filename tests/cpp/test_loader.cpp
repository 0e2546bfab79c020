// Loading that never loses the working model (juce_project/ModelLoader.h), through the JUCE
// processor with real fixture files: a failed load keeps the model playing, loads requested by
// the editor run on the loader's thread, a load before prepareToPlay is done there, a state's
// missing model is relinked by its sha256, and structural changes rebuild from the file read
// once (the file may be gone by then).
#include "PluginProcessor.h"
#include "processor_support.h"

#include <juce_cryptography/juce_cryptography.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <random>

namespace {

const juce::String models = NNPLUG_TEST_MODELS;

void prepare (NnplugProcessor& p, double rate = 44100, int block = 512)
{
    p.setRateAndBufferSizeDetails (rate, block);
    p.prepareToPlay (rate, block);
}

std::unique_ptr<NnplugProcessor> prepared()
{
    auto p = std::make_unique<NnplugProcessor>();
    prepare (*p);
    return p;
}

void setParam (NnplugProcessor& p, const juce::String& id, float plain)
{
    auto* param = p.parameters().getParameter (id);
    param->setValueNotifyingHost (param->convertTo0to1 (plain));
}

// `blocks` blocks of seeded noise through the processor, concatenated (channel 0).
std::vector<float> render (NnplugProcessor& p, int blocks, std::vector<float>* input = nullptr, unsigned seed = 5)
{
    std::mt19937 rng (seed);
    std::normal_distribution<float> d (0.0f, 0.1f);
    std::vector<float> out;
    juce::MidiBuffer midi;
    for (int b = 0; b < blocks; ++b)
    {
        juce::AudioBuffer<float> buf (2, 512);
        for (int ch = 0; ch < 2; ++ch)
            for (int t = 0; t < 512; ++t) buf.setSample (ch, t, d (rng));
        if (input)
            input->insert (input->end(), buf.getReadPointer (0), buf.getReadPointer (0) + 512);
        p.processBlock (buf, midi);
        out.insert (out.end(), buf.getReadPointer (0), buf.getReadPointer (0) + 512);
    }
    return out;
}

juce::String savedPath (NnplugProcessor& p)
{
    juce::MemoryBlock mb;
    p.getStateInformation (mb);
    auto xml = juce::AudioProcessor::getXmlFromBinary (mb.getData(), (int) mb.getSize());
    return xml ? xml->getStringAttribute ("model_path") : juce::String ("<no state>");
}

// A scratch folder, removed at the end of the test.
struct TempDir
{
    juce::File dir = juce::File::createTempFile ("nnplug-loader");
    TempDir() { dir.createDirectory(); }
    ~TempDir() { dir.deleteRecursively(); }
};

// NNPLUG_MODELS_DIR for one test.
struct ModelsDirEnv
{
    explicit ModelsDirEnv (const juce::File& d) { setenv ("NNPLUG_MODELS_DIR", d.getFullPathName().toRawUTF8(), 1); }
    ~ModelsDirEnv() { unsetenv ("NNPLUG_MODELS_DIR"); }
};

} // namespace

TEST (Loader, FailedLoadKeepsThePlayingModel)
{
    auto p = prepared();
    p->loadModel (models + "/delay_stereo.ts");
    render (*p, 4);   // the audio thread takes the new engine (crossfade)
    ASSERT_TRUE (p->getStatus().loaded) << p->getStatus().message;
    const int latency = p->getLatencySamples();
    for (const char* bad : { "/corrupt.ts", "/bad/nan.ts", "/bad/wrong_channels.ts", "/nonexistent.ts" })
    {
        SCOPED_TRACE (bad);
        p->loadModel (models + bad);
        render (*p, 4);   // the audio thread takes the new engine (crossfade)
        const auto s = p->getStatus();
        EXPECT_TRUE (s.loaded && ! s.failed) << s.message;
        EXPECT_EQ (s.modelName, "delay_stereo");
        EXPECT_TRUE (s.rejected.startsWith ("could not load " + juce::File (models + bad).getFileName())) << s.rejected;
        EXPECT_TRUE (s.rejected.contains ("still playing delay_stereo.ts")) << s.rejected;
        EXPECT_FALSE (s.rejected.containsChar ('\n'));
        EXPECT_TRUE (s.details.isNotEmpty());
        EXPECT_EQ (savedPath (*p), models + "/delay_stereo.ts");   // the project keeps the playing model
        EXPECT_EQ (p->getLatencySamples(), latency);
    }
    // still the model's output: the stereo delay's right channel is -0.5 x the input, delayed
    std::vector<float> in;
    const auto out = render (*p, 20, &in);
    int same = 0;
    for (size_t t = 0; t < in.size(); ++t) same += out[t] == in[t];
    EXPECT_LT (same, (int) in.size() / 10);
    // the next good load clears the complaint
    p->loadModel (models + "/delay_mono.ts");
    render (*p, 4);   // the audio thread takes the new engine (crossfade)
    EXPECT_EQ (p->getStatus().modelName, "delay_mono");
    EXPECT_TRUE (p->getStatus().rejected.isEmpty());
}

TEST (Loader, RequestedLoadRunsOnTheLoaderThread)
{
    // The largest model here (the bundle's default, a RAVE-style network): its load (read,
    // trial buffers, warm-up) is timed first, done on the calling thread.
    const juce::String big = NNPLUG_BUNDLED_MODEL;
    ASSERT_TRUE (juce::File (big).existsAsFile()) << big << ": build with `nnplug build` (it stages the default model)";
    auto p = prepared();
    auto t0 = std::chrono::steady_clock::now();
    p->loadModel (big);
    const double loadMs = std::chrono::duration<double, std::milli> (std::chrono::steady_clock::now() - t0).count();
    p->loadModel (models + "/delay_mono.ts");
    render (*p, 4);
    t0 = std::chrono::steady_clock::now();
    p->requestModelLoad (big);
    const double requestMs = std::chrono::duration<double, std::milli> (std::chrono::steady_clock::now() - t0).count();
    // the caller is not held up by the load; the status, read without waiting, says "loading"
    EXPECT_TRUE (p->getStatus (false).loading);
    EXPECT_LT (requestMs, loadMs / 4) << "load " << loadMs << " ms";
    p->waitForLoader();
    render (*p, 4);
    auto s = p->getStatus();
    EXPECT_FALSE (s.loading);
    EXPECT_EQ (s.modelName, "nnplug-default");
    // a failed requested load: the same promise as a direct one
    p->requestModelLoad (models + "/corrupt.ts");
    p->waitForLoader();
    render (*p, 4);
    s = p->getStatus();
    EXPECT_EQ (s.modelName, "nnplug-default");
    EXPECT_TRUE (s.rejected.contains ("corrupt.ts")) << s.rejected;
}

TEST (Loader, LoadBeforePrepareIsDoneAtPrepare)
{
    NnplugProcessor p;
    p.loadModel (models + "/delay_stereo.ts");
    auto s = p.getStatus();
    EXPECT_FALSE (s.loaded);
    EXPECT_EQ (s.waitingPath, models + "/delay_stereo.ts");
    EXPECT_EQ (savedPath (p), models + "/delay_stereo.ts");
    prepare (p);
    s = p.getStatus();
    EXPECT_TRUE (s.loaded && ! s.failed) << s.message;
    EXPECT_EQ (s.modelName, "delay_stereo");
    EXPECT_TRUE (s.waitingPath.isEmpty());

    NnplugProcessor q;   // the same through the loader's thread
    q.requestModelLoad (models + "/delay_mono.ts");
    q.waitForLoader();
    EXPECT_EQ (q.getStatus().waitingPath, models + "/delay_mono.ts");
    prepare (q);
    EXPECT_EQ (q.getStatus().modelName, "delay_mono");
}

TEST (Loader, MissingModelIsRelinkedBySha256)
{
    TempDir tmp;
    ModelsDirEnv env (tmp.dir);
    const auto original = juce::File (models + "/delay_stereo.ts");
    const auto moved = tmp.dir.getChildFile ("moved/renamed_stereo.ts");
    moved.getParentDirectory().createDirectory();
    ASSERT_TRUE (original.copyFileTo (moved));
    ASSERT_TRUE (original.copyFileTo (tmp.dir.getChildFile ("other.ts").withFileExtension ("pt")));
    ASSERT_TRUE (juce::File (models + "/delay_mono.ts").copyFileTo (tmp.dir.getChildFile ("delay_mono.ts")));
    const auto sha = juce::SHA256 (original).toHexString();

    auto p = prepared();
    p->loadModel (models + "/delay_mono.ts");
    render (*p, 4);   // the audio thread takes the new engine (crossfade)
    nnplug::test::restoreWithModel (*p, "/nonexistent/projects/delay_stereo.ts", sha);
    render (*p, 4);
    auto s = p->getStatus();
    EXPECT_TRUE (s.loaded && ! s.failed) << s.message;
    EXPECT_TRUE (s.relinked);
    EXPECT_EQ (s.modelName, "delay_stereo");
    EXPECT_TRUE (s.message.contains ("relinked delay_stereo.ts")) << s.message;
    // either copy of the file will do; the state now names the one found
    EXPECT_TRUE (savedPath (*p).startsWith (tmp.dir.getFullPathName())) << savedPath (*p);
    EXPECT_EQ (juce::SHA256 (juce::File (savedPath (*p))).toHexString(), sha);

    // no file with that sha256: failed, dry, and the project's path kept
    nnplug::test::restoreWithModel (*p, "/nonexistent/projects/delay_stereo.ts", juce::String::repeatedString ("ab", 32));
    render (*p, 4);
    s = p->getStatus();
    EXPECT_TRUE (s.failed);
    EXPECT_FALSE (s.relinked);
    EXPECT_TRUE (s.message.contains ("not found")) << s.message;
    EXPECT_EQ (savedPath (*p), "/nonexistent/projects/delay_stereo.ts");
}

TEST (Loader, StructuralChangesRebuildWithoutTheFile)
{
    TempDir tmp;
    const auto copy = tmp.dir.getChildFile ("delay_stereo.ts");
    ASSERT_TRUE (juce::File (models + "/delay_stereo.ts").copyFileTo (copy));
    auto p = prepared();
    p->loadModel (copy.getFullPathName());
    render (*p, 4);   // the audio thread takes the new engine (crossfade)
    ASSERT_TRUE (p->getStatus().loaded);
    const int n0 = p->getStatus().bufferSize;
    ASSERT_TRUE (copy.deleteFile());   // from here on only the copy in memory exists

    setParam (*p, ParamID::bufferSize, 2);   // "128"

    render (*p, 4);
    auto s = p->getStatus();
    EXPECT_TRUE (s.loaded && ! s.failed) << s.message;
    EXPECT_EQ (s.bufferSize, 128);
    setParam (*p, ParamID::inferenceMode, 1);
    render (*p, 4);
    EXPECT_FALSE (p->getStatus().failed) << p->getStatus().message;
    setParam (*p, ParamID::monoMode, 1);
    render (*p, 4);
    EXPECT_FALSE (p->getStatus().failed) << p->getStatus().message;
    setParam (*p, ParamID::modelMethod, 1);   // forward
    render (*p, 4);
    s = p->getStatus();
    EXPECT_FALSE (s.failed) << s.message;
    EXPECT_TRUE (s.method.contains ("forward")) << s.method;
    // a method the file does not have fails as before (no file read either)
    setParam (*p, ParamID::modelMethod, 2);
    render (*p, 4);
    EXPECT_TRUE (p->getStatus().failed);
    EXPECT_TRUE (p->getStatus().message.contains ("encode/decode")) << p->getStatus().message;

    // back to the first settings: the output is the file's own, from its stream's start, as a
    // fresh processor loading the original file plays it (each engine plays a pristine copy)
    setParam (*p, ParamID::modelMethod, 0);
    render (*p, 4);
    setParam (*p, ParamID::monoMode, 0);
    render (*p, 4);
    setParam (*p, ParamID::inferenceMode, 0);
    render (*p, 4);
    setParam (*p, ParamID::bufferSize, 0);
    render (*p, 4);
    ASSERT_EQ (p->getStatus().bufferSize, n0);
    ASSERT_FALSE (p->getStatus().failed);
    render (*p, 8, nullptr, 9);   // takes the new engine (crossfade) and runs its stream
    p->reset();
    const auto again = render (*p, 30);
    auto fresh = prepared();
    fresh->loadModel (models + "/delay_stereo.ts");
    render (*fresh, 4);
    fresh->reset();
    const auto expected = render (*fresh, 30);
    EXPECT_EQ (again, expected);
}

TEST (Loader, RestoredStateWinsOverAPendingPick)
{
    // A model picked in the editor, then a project opened before (or while) it loads: the
    // project's model is the one that plays, whichever got to the loader first.
    auto p = prepared();
    p->loadModel (models + "/delay_mono.ts");
    render (*p, 4);
    p->requestModelLoad (models + "/delay_mono.ts");
    nnplug::test::restoreWithModel (*p, models + "/delay_stereo.ts", "");
    p->waitForLoader();
    render (*p, 4);
    const auto s = p->getStatus();
    EXPECT_EQ (s.modelName, "delay_stereo");
    EXPECT_FALSE (s.loading);
    EXPECT_EQ (savedPath (*p), models + "/delay_stereo.ts");
}

TEST (Loader, EditorStructureChangeIsBuiltOnTheLoaderThreadEvenWithARefusedLoad)
{
    auto p = prepared();
    p->loadModel (models + "/delay_stereo.ts");
    render (*p, 4);
    // a file picked, then the buffer changed, both from the editor: the file is refused, the
    // playing model gets the new buffer
    p->requestModelLoad (models + "/corrupt.ts");
    p->setStructuralFromEditor (ParamID::bufferSize, 2);   // "128"
    p->waitForLoader();
    render (*p, 4);
    const auto s = p->getStatus();
    EXPECT_EQ (s.modelName, "delay_stereo");
    EXPECT_EQ (s.bufferSize, 128);
    EXPECT_TRUE (s.rejected.contains ("corrupt.ts")) << s.rejected;
    EXPECT_FALSE (s.loading);
}
