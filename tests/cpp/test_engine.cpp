// The engine with real TorchScript models (tests/fixtures/make_models.py): latency measured
// with an impulse, dry/wet alignment, the error paths, resampling, and no heap allocation in
// the audio callback in worker mode.
#include "Engine.h"
#include "allocations.h"
#include "engine_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace nnplug;
using namespace nnplug::test;

namespace {
constexpr double kPi = 3.14159265358979323846;
} // namespace

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
    resetAllocations();
    long calls = 0;
    for (int i = 0; i < 300; ++i)
    {
        countAllocations (true);
        e->process (io, 1 + (i * 37) % 100, i % 2 == 0);   // offline and real-time calls
        countAllocations (false);
        ++calls;
    }
    EXPECT_EQ (allocations(), 0) << "over " << calls << " callbacks";
    EXPECT_FALSE (e->failed());

    // The same loop in synchronous mode does allocate (libtorch on the audio thread): this
    // proves the counter sees allocations at all.
    cfg.mode = InferenceMode::Synchronous;
    auto s = makeEngine ("delay_mono.ts", cfg, c);
    countAllocations (true);
    for (int i = 0; i < 10; ++i) s->process (io, 100, true);
    countAllocations (false);
    EXPECT_GT (allocations(), 0);
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

TEST (EngineResampling, ModelAt44100OnHostAt48000)
{
    // delay_mono: y = x[t - 7] + 0.25 x[t - 8] at the model's 44.1 kHz. Through the engine at
    // 48 kHz a sine must come out as that filter applied to the band-limited signal, delayed
    // by exactly latency() host samples: the 0.25 tap lands 48000 / 44100 host samples later.
    Controls c;
    for (auto mode : { InferenceMode::Synchronous, InferenceMode::Worker })
        for (int B : { 1, 100, 512, 4096 })
        {
            EngineConfig cfg;
            cfg.hostRate = 48000;
            cfg.maxBlock = B;
            cfg.bufferSize = 256;
            cfg.hostChannels = 2;
            cfg.mode = mode;
            Engine e (std::make_unique<ModelRunner> (std::string (NNPLUG_TEST_MODELS) + "/delay_mono.ts"), cfg, c);
            ASSERT_TRUE (e.resampling());
            const int L = e.latency();
            const int total = 24000;
            const double amp = 0.5, f = 5000.0, w = 2 * kPi * f / 48000;
            std::vector<std::vector<float>> x (2, std::vector<float> ((size_t) total));
            for (int t = 0; t < total; ++t)
                x[0][(size_t) t] = x[1][(size_t) t] = (float) (amp * std::sin (w * t));
            auto y = x;
            for (int pos = 0; pos < total; pos += B)
            {
                float* io[2] = { y[0].data() + pos, y[1].data() + pos };
                e.process (io, std::min (B, total - pos), true);
            }
            EXPECT_EQ (e.resamplerUnderruns(), 0);
            double err = 0;
            for (int t = L + 2000; t < total; ++t)
            {
                const double want = amp * std::sin (w * (t - L)) + 0.25 * amp * std::sin (w * (t - L - 48000.0 / 44100.0));
                err = std::max (err, std::abs (y[0][(size_t) t] - want));
                ASSERT_EQ (y[0][(size_t) t], y[1][(size_t) t]);
            }
            EXPECT_LE (err, 4e-5 * 1.25 * amp) << "B=" << B;   // the bound above, for a peak of 1.25 amp
        }
}

TEST (EngineResampling, EqualRatesBypass)
{
    Controls c;
    EngineConfig cfg;
    cfg.hostRate = 44100;
    cfg.bufferSize = 256;
    Engine e (std::make_unique<ModelRunner> (std::string (NNPLUG_TEST_MODELS) + "/delay_mono.ts"), cfg, c);
    EXPECT_FALSE (e.resampling());
    EXPECT_EQ (e.latency(), 255 + 7);
}
