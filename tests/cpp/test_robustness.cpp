// Failure containment in the engine: every file of the hostile corpus (python/nnplug/badmodels.py,
// written by tests/fixtures/make_models.py into test-models/bad with corpus.json) is refused
// at load with its reason, or fails while playing and then passes the aligned dry signal (or
// silence); hostile block sequences, automation on every block, restarts and engine swaps
// while rendering keep the output finite and the latency true. These tests also run under
// AddressSanitizer + UBSan and (the worker-thread ones) ThreadSanitizer: -DNNPLUG_SANITIZE.
#include "Engine.h"
#include "EngineSwitch.h"
#include "Json.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <cmath>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace nnplug;

namespace {

const std::string models = NNPLUG_TEST_MODELS;

struct Case
{
    std::string name, file, phase, error;
};

std::vector<Case> corpus()
{
    std::ifstream f (models + "/bad/corpus.json");
    std::stringstream ss;
    ss << f.rdbuf();
    std::vector<Case> cases;
    const auto doc = Json::parse (ss.str());   // (a range-for over a temporary's items() would dangle)
    for (const auto& c : doc.items())
        cases.push_back ({ c["name"].str(), models + "/bad/" + c["file"].str(), c["phase"].str(), c["plugin_error"].str() });
    return cases;
}

bool matches (const std::string& text, const std::string& pattern)
{
    return std::regex_search (text, std::regex (pattern, std::regex::icase));
}

std::vector<std::vector<float>> noise (int channels, int total, unsigned seed)
{
    std::mt19937 rng (seed);
    std::normal_distribution<float> d (0.0f, 0.1f);
    std::vector<std::vector<float>> x ((size_t) channels, std::vector<float> ((size_t) total));
    for (auto& ch : x)
        for (auto& v : ch) v = d (rng);
    return x;
}

bool allFinite (const std::vector<std::vector<float>>& y)
{
    for (const auto& ch : y)
        for (float v : ch)
            if (! std::isfinite (v)) return false;
    return true;
}

} // namespace

TEST (BadModels, CorpusIsComplete)
{
    const auto cases = corpus();
    EXPECT_GE (cases.size(), 20u);   // the list: see python/nnplug/badmodels.py
}

TEST (BadModels, RefusedAtLoadOrContainedWhilePlaying)
{
    int tried = 0;
    for (const auto& c : corpus())
        for (auto mode : { InferenceMode::Synchronous, InferenceMode::Worker })
            for (auto failure : { FailureMode::PassDry, FailureMode::Silence })
            {
                if (c.name == "slow" && (mode == InferenceMode::Worker || failure == FailureMode::Silence))
                    continue;   // a 2-second trial per load: once is enough here
                SCOPED_TRACE (c.name + (mode == InferenceMode::Worker ? " worker" : " sync")
                              + (failure == FailureMode::Silence ? " silence" : " dry"));
                ++tried;
                Controls controls;
                controls.failure = (int) failure;
                EngineConfig cfg;
                cfg.hostRate = 44100;
                cfg.maxBlock = 512;
                cfg.hostChannels = 2;
                cfg.mode = mode;
                std::unique_ptr<Engine> e;
                std::string error;
                try
                {
                    e = std::make_unique<Engine> (std::make_unique<ModelRunner> (c.file), cfg, controls);
                }
                catch (const ModelError& err)
                {
                    error = err.what();
                }
                if (c.phase == "warning")   // played, and the engine says why it may sound wrong
                {
                    ASSERT_NE (e, nullptr) << "refused at load: " << error;
                    EXPECT_TRUE (matches (e->warning(), c.error)) << e->warning() << " !~ " << c.error;
                    continue;
                }
                if (c.phase == "load")
                {
                    EXPECT_EQ (e, nullptr) << "accepted at load";
                    EXPECT_TRUE (matches (error, c.error)) << error << " !~ " << c.error;
                    continue;
                }
                ASSERT_NE (e, nullptr) << "refused at load: " << error;
                const auto x = noise (2, 64 * 512, 1);
                auto y = x;
                for (int pos = 0; pos < (int) x[0].size(); pos += 512)
                {
                    float* io[2] = { y[0].data() + pos, y[1].data() + pos };
                    e->process (io, 512, true);
                }
                ASSERT_TRUE (e->failed());
                EXPECT_TRUE (matches (e->error(), c.error)) << e->error() << " !~ " << c.error;
                EXPECT_TRUE (allFinite (y));
                const int L = e->latency();
                for (int ch = 0; ch < 2; ++ch)
                    for (size_t t = y[0].size() - 4096; t < y[0].size(); ++t)
                        ASSERT_EQ (y[(size_t) ch][t], failure == FailureMode::Silence ? 0.0f : x[(size_t) ch][t - (size_t) L]) << t;
            }
    std::cout << "[ robustness ] bad-model cases tried in the engine: " << tried << "\n";
}

// A hostile host: block sizes 0, 1, odd, larger than the engine's maximum; automation on every
// block; restarts; a new engine offered while rendering. Output stays finite and, afterwards,
// an impulse comes out exactly at the reported latency.
TEST (HostTorture, EngineSwitchSurvivesAndLatencyStaysTrue)
{
    std::mt19937 rng (42);
    for (auto mode : { InferenceMode::Synchronous, InferenceMode::Worker })
    {
        Controls controls;
        EngineConfig cfg;
        cfg.maxBlock = 256;
        cfg.bufferSize = 128;
        cfg.hostChannels = 2;
        cfg.mode = mode;
        auto make = [&] (const char* file) { return new Engine (std::make_unique<ModelRunner> (models + "/" + file), cfg, controls); };
        EngineSwitch sw;
        sw.prepare (2, 256, 64);
        sw.installNow (make ("delay_mono.ts"));
        const int sizes[] = { 0, 1, 2, 3, 7, 31, 64, 100, 255, 256, 257, 511, 1000, 3000 };
        std::vector<float> l (4096), r (4096);
        std::normal_distribution<float> d (0.0f, 0.3f);
        std::uniform_real_distribution<float> u (0.0f, 1.0f);
        for (int i = 0; i < 1500; ++i)
        {
            const int n = sizes[rng() % std::size (sizes)];
            for (int t = 0; t < n; ++t) { l[(size_t) t] = d (rng); r[(size_t) t] = d (rng); }
            controls.inputGain = 0.25f + 2.0f * u (rng);
            controls.outputGain = 0.25f + 2.0f * u (rng);
            controls.mix = u (rng);
            controls.failure = (int) (rng() % 2);
            for (int k = 0; k < kLatentControls; ++k) controls.latent.scale[(size_t) k] = 4.0f * u (rng) - 2.0f;
            if (i % 97 == 0) sw.requestRestart();
            if (i % 211 == 0) sw.offer (make (i % 2 ? "delay_stereo.ts" : "delay_mono.ts"));
            if (i % 13 == 0) sw.collect();
            float* io[2] = { l.data(), r.data() };
            sw.process (io, 2, n, i % 3 == 0);
            for (int t = 0; t < n; ++t)
                ASSERT_TRUE (std::isfinite (l[(size_t) t]) && std::isfinite (r[(size_t) t])) << "block " << i << " n=" << n;
        }
        // unity again, one engine, a restart: the impulse lands at the reported latency
        controls.inputGain = 1.0f; controls.outputGain = 1.0f; controls.mix = 1.0f;
        sw.offer (make ("delay_mono.ts"));
        sw.requestRestart();
        std::vector<float> a (8192, 0.0f), b (8192, 0.0f);
        a[100] = b[100] = 1.0f;
        for (int pos = 0, i = 0; pos < 8192; ++i)
        {
            const int n = std::min (8192 - pos, sizes[1 + (size_t) i % (std::size (sizes) - 1)]);
            float* io[2] = { a.data() + pos, b.data() + pos };
            sw.process (io, 2, n, true);
            sw.collect();
            pos += n;
        }
        ASSERT_NE (sw.current(), nullptr);
        const int L = sw.current()->latency();
        EXPECT_EQ (a[(size_t) (100 + L)], 1.0f) << "latency " << L;
        EXPECT_EQ (a[(size_t) (101 + L)], 0.25f);
        EXPECT_EQ (b[(size_t) (100 + L)], 1.0f);
    }
}

// The worker thread under ThreadSanitizer: the audio thread processes while another thread
// offers engines and collects the retired ones, and the controls are automated from a third.
TEST (Threads, SwapsAndAutomationWhileRendering)
{
    Controls controls;
    EngineConfig cfg;
    cfg.maxBlock = 64;
    cfg.bufferSize = 64;
    cfg.hostChannels = 2;
    cfg.mode = InferenceMode::Worker;
    auto make = [&] { return new Engine (std::make_unique<ModelRunner> (models + "/delay_mono.ts"), cfg, controls); };
    EngineSwitch sw;
    sw.prepare (2, 64, 32);
    sw.installNow (make());
    std::atomic<bool> stop { false };
    std::thread loader ([&] {
        for (int i = 0; i < 6 && ! stop; ++i)
        {
            sw.offer (make());
            std::this_thread::sleep_for (std::chrono::milliseconds (20));
            sw.collect();
        }
    });
    std::thread automation ([&] {
        for (int i = 0; ! stop; ++i)
        {
            controls.mix = (float) (i % 100) / 100.0f;
            controls.inputGain = 0.5f + (float) (i % 7) / 7.0f;
            std::this_thread::yield();
        }
    });
    std::vector<float> l (64), r (64);
    for (int i = 0; i < 3000; ++i)
    {
        std::fill (l.begin(), l.end(), 0.1f);
        std::fill (r.begin(), r.end(), -0.1f);
        float* io[2] = { l.data(), r.data() };
        sw.process (io, 2, 1 + i % 64, i % 2 == 0);
        for (int t = 0; t < 1 + i % 64; ++t)
            ASSERT_TRUE (std::isfinite (l[(size_t) t]));
    }
    loader.join();
    stop = true;
    automation.join();
    sw.collect();
    EXPECT_NE (sw.current(), nullptr);
}
