// Shared by the engine tests: the fixture models (tests/fixtures/make_models.py), engines
// built from them, and rendering through an engine in given block sizes.
#pragma once

#include "Engine.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace nnplug::test {

inline const std::string models = NNPLUG_TEST_MODELS;
constexpr int kModelDelay = 7;   // tests/fixtures/make_models.py DELAY

inline std::unique_ptr<Engine> makeEngine (const std::string& file, EngineConfig cfg, const Controls& c)
{
    return std::make_unique<Engine> (std::make_unique<ModelRunner> (models + "/" + file), cfg, c);
}

// Runs `x` (channels x total) through the engine in blocks of the given sizes (cycled).
inline std::vector<std::vector<float>> render (Engine& e, std::vector<std::vector<float>> x,
                                               const std::vector<int>& blocks, bool offline = true)
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

inline std::vector<std::vector<float>> impulse (int channels, int total, int at)
{
    std::vector<std::vector<float>> x ((size_t) channels, std::vector<float> ((size_t) total, 0.0f));
    for (auto& ch : x) ch[(size_t) at] = 1.0f;
    return x;
}

} // namespace nnplug::test
