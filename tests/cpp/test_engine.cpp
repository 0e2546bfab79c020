// The engine with real TorchScript models (tests/fixtures/make_models.py): latency measured
// with an impulse, dry/wet alignment, the error paths, and no heap allocation in the audio
// callback in worker mode.
#include "Engine.h"
#include "EngineSwitch.h"

#include <gtest/gtest.h>
#include <limits>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

using namespace nnplug;

// ---- allocation counting: operator new counts on threads that ask for it --------------------
static thread_local bool countAllocations = false;
static std::atomic<long> allocations { 0 };

void* operator new (std::size_t size)
{
    if (countAllocations) allocations.fetch_add (1);
    if (void* p = std::malloc (size ? size : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[] (std::size_t size) { return operator new (size); }
void operator delete (void* p) noexcept { std::free (p); }
void operator delete[] (void* p) noexcept { std::free (p); }
void operator delete (void* p, std::size_t) noexcept { std::free (p); }
void operator delete[] (void* p, std::size_t) noexcept { std::free (p); }

namespace {

const std::string models = NNPLUG_TEST_MODELS;
constexpr int kModelDelay = 7;   // tests/fixtures/make_models.py DELAY

std::unique_ptr<Engine> makeEngine (const std::string& file, EngineConfig cfg, const Controls& c)
{
    return std::make_unique<Engine> (std::make_unique<ModelRunner> (models + "/" + file), cfg, c);
}

// Runs `x` (channels x total) through the engine in blocks of the given sizes (cycled).
std::vector<std::vector<float>> render (Engine& e, std::vector<std::vector<float>> x, const std::vector<int>& blocks,
                                        bool offline = true)
{
    const int total = (int) x[0].size();
    int pos = 0;
    for (size_t i = 0; pos < total; ++i)
    {
        const int b = std::min (blocks[i % blocks.size()], total - pos);
        std::vector<float*> io;
        for (auto& ch : x) io.push_back (ch.data() + pos);
        e.process (io.data(), b, offline);
        pos += b;
    }
    return x;
}

std::vector<std::vector<float>> impulse (int channels, int total, int at)
{
    std::vector<std::vector<float>> x ((size_t) channels, std::vector<float> ((size_t) total, 0.0f));
    for (auto& ch : x) ch[(size_t) at] = 1.0f;
    return x;
}

} // namespace

TEST (ModelRunner, ReadsContract)
{
    ModelRunner m (models + "/delay_stereo.ts");
    const auto& info = m.info();
    EXPECT_EQ (info.format, "nnplug");
    EXPECT_EQ (info.name, "delay_stereo");
    EXPECT_EQ (info.sampleRate, 44100);
    EXPECT_EQ (info.ratio, 4);
    EXPECT_EQ (info.delay, kModelDelay);
    EXPECT_TRUE (info.delayKnown);
    EXPECT_TRUE (info.hasReset);
    EXPECT_EQ (info.inChannels(), 2);
    EXPECT_EQ (info.outChannels(), 2);
    EXPECT_FALSE (info.latentPath);
}

TEST (Engine, ImpulseLatencyEqualsReported)
{
    Controls c;
    for (auto mode : { InferenceMode::Synchronous, InferenceMode::Worker })
        for (int B : { 1, 32, 100, 333, 512, 1000, 4096 })
        {
            EngineConfig cfg;
            cfg.maxBlock = B;
            cfg.bufferSize = 256;
            cfg.mode = mode;
            auto e = makeEngine ("delay_mono.ts", cfg, c);
            ASSERT_EQ (e->latency(), 255 + (mode == InferenceMode::Worker ? 256 : 0) + kModelDelay);
            const int at = 300;
            auto y = render (*e, impulse (2, 4000, at), { B });
            for (int ch = 0; ch < 2; ++ch)
            {
                int peak = 0;
                for (int t = 0; t < 4000; ++t)
                    if (std::abs (y[(size_t) ch][(size_t) t]) > std::abs (y[(size_t) ch][(size_t) peak])) peak = t;
                EXPECT_EQ (peak - at, e->latency()) << "B=" << B;
                EXPECT_EQ (y[(size_t) ch][(size_t) (peak + 1)], 0.25f);   // the model's second tap
            }
        }
}

TEST (Engine, DryPathAlignedWithWet)
{
    Controls c;
    c.mix = 0.0f;   // dry only
    EngineConfig cfg;
    cfg.maxBlock = 100;
    cfg.bufferSize = 128;
    cfg.hostChannels = 1;
    auto e = makeEngine ("delay_mono.ts", cfg, c);
    auto y = render (*e, impulse (1, 3000, 50), { 100, 37, 1, 64 });
    EXPECT_EQ (y[0][(size_t) (50 + e->latency())], 1.0f);
    EXPECT_EQ (y[0][(size_t) (51 + e->latency())], 0.0f);   // no model tap: this is the dry path
}

TEST (Engine, NonFiniteInputBecomesSilence)
{
    // NaN and Inf from the host must not fail the model nor reach the output: the engine plays
    // exactly what it plays for the same input with those samples silent, dry and wet.
    Controls c;
    c.mix = 0.5f;
    EngineConfig cfg;
    cfg.maxBlock = 100;
    cfg.bufferSize = 128;
    cfg.hostChannels = 2;
    auto a = makeEngine ("delay_mono.ts", cfg, c);
    auto b = makeEngine ("delay_mono.ts", cfg, c);
    std::vector<std::vector<float>> x (2, std::vector<float> (3000));
    for (int ch = 0; ch < 2; ++ch)
        for (int t = 0; t < 3000; ++t)
            x[(size_t) ch][(size_t) t] = 0.3f * std::sin (0.01f * (float) (t * (ch + 1)));
    auto clean = x;
    const std::vector<std::pair<int, int>> bad { { 0, 500 }, { 1, 501 }, { 0, 2000 } };
    x[0][500] = std::numeric_limits<float>::quiet_NaN();
    x[1][501] = std::numeric_limits<float>::infinity();
    x[0][2000] = -std::numeric_limits<float>::infinity();
    for (auto [ch, t] : bad) clean[(size_t) ch][(size_t) t] = 0.0f;
    auto ya = render (*a, x, { 100, 37 });
    auto yb = render (*b, clean, { 100, 37 });
    EXPECT_FALSE (a->failed()) << a->error();
    EXPECT_EQ (a->nonFiniteInputSamples(), 3);
    EXPECT_EQ (b->nonFiniteInputSamples(), 0);
    for (int ch = 0; ch < 2; ++ch)
        for (int t = 0; t < 3000; ++t)
        {
            ASSERT_TRUE (std::isfinite (ya[(size_t) ch][(size_t) t])) << ch << " " << t;
            ASSERT_EQ (ya[(size_t) ch][(size_t) t], yb[(size_t) ch][(size_t) t]) << ch << " " << t;
        }
}

TEST (Engine, StereoModelAndPerChannelBatch)
{
    Controls c;
    EngineConfig cfg;
    cfg.maxBlock = 64;
    cfg.bufferSize = 64;
    auto stereo = makeEngine ("delay_stereo.ts", cfg, c);
    auto y = render (*stereo, impulse (2, 1000, 10), { 64 });
    EXPECT_EQ (y[0][(size_t) (10 + stereo->latency())], 1.0f);
    EXPECT_EQ (y[1][(size_t) (10 + stereo->latency())], -0.5f);   // its right-channel gain
    auto mono = makeEngine ("delay_mono.ts", cfg, c);
    EXPECT_EQ (mono->batch(), 2);
    cfg.channelMode = ChannelMode::Downmix;
    auto down = makeEngine ("delay_mono.ts", cfg, c);
    EXPECT_EQ (down->batch(), 1);
}

TEST (Errors, LoadFailuresAreClear)
{
    EXPECT_THROW (ModelRunner (models + "/does_not_exist.ts"), ModelError);
    EXPECT_THROW (ModelRunner (models + "/corrupt.ts"), ModelError);
    Controls c;
    EngineConfig cfg;
    try
    {
        makeEngine ("wrong_shape.ts", cfg, c);
        FAIL() << "wrong shape accepted";
    }
    catch (const ModelError& e)
    {
        EXPECT_NE (std::string (e.what()).find ("shape"), std::string::npos) << e.what();
    }
    cfg.bufferSize = 6;   // rounded up to the ratio (4): 8
    EXPECT_EQ (makeEngine ("delay_mono.ts", cfg, c)->bufferSize(), 8);
}

TEST (Errors, RuntimeFailurePassesDryOrSilence)
{
    for (const char* file : { "throws.ts", "nan.ts" })
        for (auto mode : { InferenceMode::Synchronous, InferenceMode::Worker })
            for (auto failure : { FailureMode::PassDry, FailureMode::Silence })
            {
                Controls c;
                c.failure = (int) failure;
                EngineConfig cfg;
                cfg.maxBlock = 64;
                cfg.bufferSize = 64;
                cfg.hostChannels = 1;
                cfg.mode = mode;
                auto e = makeEngine (file, cfg, c);   // the first buffers work
                std::vector<std::vector<float>> x (1, std::vector<float> (64 * 40));
                for (size_t t = 0; t < x[0].size(); ++t) x[0][t] = std::sin (0.01f * (float) t);
                auto y = render (*e, x, { 64 });
                ASSERT_TRUE (e->failed()) << file;
                EXPECT_NE (std::string (e->error()), "");
                // After the failure is noticed, the output is the aligned dry signal or silence.
                const int L = e->latency();
                for (size_t t = y[0].size() - 64; t < y[0].size(); ++t)
                {
                    const float want = failure == FailureMode::Silence ? 0.0f : x[0][t - (size_t) L];
                    ASSERT_EQ (y[0][t], want) << file << " t=" << t;
                    ASSERT_TRUE (std::isfinite (y[0][t]));
                }
            }
}

TEST (Worker, AudioCallbackDoesNotAllocate)
{
    Controls c;
    c.inputGain = 0.5f;   // exercise gain, mix and the dry path too
    c.mix = 0.7f;
    EngineConfig cfg;
    cfg.maxBlock = 100;
    cfg.bufferSize = 256;
    cfg.mode = InferenceMode::Worker;
    auto e = makeEngine ("delay_mono.ts", cfg, c);
    std::vector<float> l (100, 0.1f), r (100, -0.1f);
    float* io[2] = { l.data(), r.data() };
    e->process (io, 100, true);   // warm-up outside the counted region
    allocations = 0;
    long calls = 0;
    for (int i = 0; i < 300; ++i)
    {
        countAllocations = true;
        e->process (io, 1 + (i * 37) % 100, i % 2 == 0);   // offline and real-time calls
        countAllocations = false;
        ++calls;
    }
    EXPECT_EQ (allocations.load(), 0) << "over " << calls << " callbacks";
    EXPECT_FALSE (e->failed());

    // The same loop in synchronous mode does allocate (libtorch on the audio thread): this
    // proves the counter sees allocations at all.
    cfg.mode = InferenceMode::Synchronous;
    auto s = makeEngine ("delay_mono.ts", cfg, c);
    countAllocations = true;
    for (int i = 0; i < 10; ++i) s->process (io, 100, true);
    countAllocations = false;
    EXPECT_GT (allocations.load(), 0);
}

TEST (EngineSwitch, CrossfadeWithoutBlockingAndRestartSwapsAtOnce)
{
    Controls c;
    EngineConfig cfg;
    cfg.maxBlock = 64;
    cfg.bufferSize = 64;
    cfg.hostChannels = 1;
    EngineSwitch sw;
    sw.prepare (1, 64, 128);
    sw.installNow (makeEngine ("delay_mono.ts", cfg, c).release());
    Engine* first = sw.current();
    std::vector<float> x (64, 0.5f);
    float* io[1] = { x.data() };
    sw.process (io, 1, 64, false);
    sw.offer (makeEngine ("delay_mono.ts", cfg, c).release());
    countAllocations = true;
    allocations = 0;
    for (int i = 0; i < 4; ++i) { std::fill (x.begin(), x.end(), 0.5f); sw.process (io, 1, 64, false); }
    countAllocations = false;
    EXPECT_NE (sw.current(), first);
    EXPECT_FALSE (sw.fading());
    sw.collect();
    // At a restart a pending engine takes over with no fade.
    sw.offer (makeEngine ("delay_stereo.ts", cfg, c).release());
    sw.requestRestart();
    sw.process (io, 1, 64, true);
    EXPECT_EQ (sw.current()->info().name, "delay_stereo");
    EXPECT_FALSE (sw.fading());
}

// Gains and mix set before a stream starts (a restored state, parameters set before playback)
// or changed before a restart apply from the first sample: no ramp from earlier values.
TEST (Engine, FreshStreamStartsAtCurrentGainsAndMix)
{
    EngineConfig cfg;
    cfg.maxBlock = 64;
    cfg.bufferSize = 64;
    cfg.hostChannels = 1;
    auto signal = [] {
        std::vector<std::vector<float>> x (1, std::vector<float> (700));
        for (size_t i = 0; i < x[0].size(); ++i) x[0][i] = std::sin (0.05f * (float) i);
        return x;
    };
    auto set = [] (Controls& c, float in, float out, float mix) { c.inputGain = in; c.outputGain = out; c.mix = mix; };

    Controls wanted;
    set (wanted, 0.5f, 2.0f, 0.25f);
    auto reference = makeEngine ("delay_mono.ts", cfg, wanted);
    const auto y = render (*reference, signal(), { 64 });

    Controls c;   // unity when the engine is built, changed before its first block
    auto e = makeEngine ("delay_mono.ts", cfg, c);
    set (c, 0.5f, 2.0f, 0.25f);
    EXPECT_EQ (render (*e, signal(), { 64 }), y);

    set (c, 1.0f, 0.25f, 1.0f);   // played with other values, changed, then restarted
    render (*e, signal(), { 64 });
    set (c, 0.5f, 2.0f, 0.25f);
    e->requestRestart();
    EXPECT_EQ (render (*e, signal(), { 64 }), y);
}

// An engine offered before any audio was processed (a state restored after prepareToPlay,
// before playback) takes over at once: there is no stream to crossfade from.
TEST (EngineSwitch, OfferBeforeFirstBlockTakesOverAtOnce)
{
    Controls c;
    EngineConfig cfg;
    cfg.maxBlock = 64;
    cfg.bufferSize = 64;
    cfg.hostChannels = 1;
    EngineSwitch sw;
    sw.prepare (1, 64, 128);
    sw.installNow (makeEngine ("delay_mono.ts", cfg, c).release());
    sw.offer (makeEngine ("delay_stereo.ts", cfg, c).release());
    std::vector<float> x (64, 0.5f);
    float* io[1] = { x.data() };
    sw.process (io, 1, 64, true);
    EXPECT_EQ (sw.current()->info().name, "delay_stereo");
    EXPECT_FALSE (sw.fading());
    // once playing, an offer crossfades
    sw.collect();
    sw.offer (makeEngine ("delay_mono.ts", cfg, c).release());
    sw.process (io, 1, 64, true);
    EXPECT_TRUE (sw.fading());
}

TEST (ModelRunner, DelayOfExportsWithoutMetadataIsMeasured)
{
    // tests/fixtures/make_models.py: RAVE v2-like files (no nnplug metadata), delay 7; one of
    // them adds unseeded noise to every output sample, as RAVE's sampling does.
    for (const char* file : { "nometa_delay.ts", "rave_like_noisy.ts" })
    {
        ModelRunner probe (models + "/" + file);
        EXPECT_EQ (probe.info().format, "rave-v2");
        EXPECT_FALSE (probe.info().delayKnown);   // nothing in the file says it
        Controls c;
        EngineConfig cfg;
        cfg.maxBlock = 64;
        cfg.bufferSize = 256;
        cfg.hostChannels = 1;
        auto e = makeEngine (file, cfg, c);
        EXPECT_TRUE (e->info().delayMeasured) << file;
        EXPECT_EQ (e->modelDelay(), kModelDelay) << file;
        EXPECT_EQ (e->latency(), 255 + kModelDelay) << file;
        EXPECT_NE (e->warning().find ("measured"), std::string::npos) << e->warning();
        if (std::string (file) == "nometa_delay.ts")
        {
            // and the measured latency is the true one: an impulse comes out exactly there
            auto y = render (*e, impulse (1, 2000, 100), { 64 });
            EXPECT_EQ (y[0][(size_t) (100 + e->latency())], 1.0f);
            EXPECT_EQ (y[0][(size_t) (101 + e->latency())], 0.25f);
        }
    }
}
