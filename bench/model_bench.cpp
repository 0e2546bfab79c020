// nnplug_model_bench: the cost of running an nn~ model, without a plugin host.
//
//   nnplug_model_bench raw    --model M.ts [--buffer N] [--batch B] [--input F] [--seconds S] [--rounds R]
//   nnplug_model_bench engine --model M.ts [--buffer N] [--channels H] [--block B] [--mode sync|worker] ...
//
// raw:    the model's method(s) called in a tight loop on buffers of N samples, one intra-op
//         thread, InferenceMode: the floor any plugin can reach (the "raw libtorch" of
//         `nnplug bench plugin`). encode -> decode when the model has both and they fit
//         (the plugin's audio path), forward otherwise.
// engine: the plugin's engine (plugin/src: ModelRunner, Reblocker, Engine; no JUCE, no host)
//         on host blocks of B samples, offline: what the plugin adds before a host adds its own.
//
// Input: --input F is raw float32, planar [channel][T] with --input-channels C (the same audio
// the hosts render); otherwise deterministic noise. Each round processes the whole input from
// a fresh stream (reset, not reloaded). Prints one JSON object: load time, the first calls'
// times (TorchScript optimizes a method's graph on its first calls), every round's wall time,
// every round's CPU time (all threads of the process) and the process's peak resident
// memory. --output F writes the last round's output (float32,
// [batch*channels][T]) so that a caller can check it ran the same computation.
#include <torch/script.h>
#include <ATen/Parallel.h>

#include "Engine.h"
#include "ModelCall.h"
#include "ModelFile.h"

#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double since (Clock::time_point t0)
{
    return std::chrono::duration<double> (Clock::now() - t0).count();
}

// CPU seconds of the whole process (every thread: the engine's worker included). Unlike wall
// time it barely moves when other processes compete for the cores.
double cpuNow()
{
    timespec ts {};
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

struct Args
{
    std::string what, model, input, output;
    int buffer = 0, batch = 1, channels = 1, inputChannels = 1, block = 512, rounds = 3, warmup = 3;
    double seconds = 10.0;
    std::string mode = "sync";
};

[[noreturn]] void usage (const std::string& why)
{
    std::cerr << "nnplug_model_bench: " << why << "\n"
              << "usage: nnplug_model_bench raw|engine --model M.ts [--buffer N] [--batch B] [--channels H]\n"
                 "       [--block B] [--mode sync|worker] [--input F --input-channels C] [--seconds S]\n"
                 "       [--rounds R] [--warmup K] [--output F]\n";
    std::exit (2);
}

Args parse (int argc, char** argv)
{
    Args a;
    if (argc < 2)
        usage ("missing raw|engine");
    a.what = argv[1];
    if (a.what != "raw" && a.what != "engine")
        usage ("unknown benchmark '" + a.what + "'");
    for (int i = 2; i < argc; ++i)
    {
        const std::string k = argv[i];
        if (i + 1 >= argc)
            usage ("missing value for " + k);
        const std::string v = argv[++i];
        try
        {
            if (k == "--model") a.model = v;
            else if (k == "--input") a.input = v;
            else if (k == "--output") a.output = v;
            else if (k == "--buffer") a.buffer = std::stoi (v);
            else if (k == "--batch") a.batch = std::stoi (v);
            else if (k == "--channels") a.channels = std::stoi (v);
            else if (k == "--input-channels") a.inputChannels = std::stoi (v);
            else if (k == "--block") a.block = std::stoi (v);
            else if (k == "--rounds") a.rounds = std::stoi (v);
            else if (k == "--warmup") a.warmup = std::stoi (v);
            else if (k == "--seconds") a.seconds = std::stod (v);
            else if (k == "--mode") a.mode = v;
            else usage ("unknown option " + k);
        }
        catch (const std::logic_error&) { usage ("bad value for " + k + ": " + v); }
    }
    if (a.model.empty())
        usage ("--model is required");
    if (a.mode != "sync" && a.mode != "worker")
        usage ("--mode must be sync or worker");
    if (a.batch < 1 || a.channels < 1 || a.inputChannels < 1 || a.block < 1 || a.rounds < 1 || a.warmup < 0)
        usage ("counts must be positive");
    return a;
}

// [channel][T] audio: the given file, or 0.5-amplitude noise from a fixed LCG.
std::vector<std::vector<float>> loadInput (const Args& a, int channels, int minSamples)
{
    std::vector<std::vector<float>> x ((size_t) channels);
    if (! a.input.empty())
    {
        std::ifstream f (a.input, std::ios::binary | std::ios::ate);
        if (! f)
            usage ("cannot read " + a.input);
        const auto bytes = (size_t) f.tellg();
        const size_t total = bytes / sizeof (float) / (size_t) a.inputChannels;
        f.seekg (0);
        std::vector<float> all ((size_t) a.inputChannels * total);
        f.read (reinterpret_cast<char*> (all.data()), (std::streamsize) (all.size() * sizeof (float)));
        for (int c = 0; c < channels; ++c)
            x[(size_t) c].assign (all.begin() + (std::ptrdiff_t) ((size_t) (c % a.inputChannels) * total),
                                  all.begin() + (std::ptrdiff_t) ((size_t) (c % a.inputChannels + 1) * total));
        return x;
    }
    uint32_t s = 12345;
    for (auto& ch : x)
    {
        ch.resize ((size_t) minSamples);
        for (auto& v : ch)
        {
            s = s * 1664525u + 1013904223u;
            v = ((float) (s >> 8) / 16777216.0f - 0.5f);
        }
    }
    return x;
}

long peakRssKb()
{
    std::ifstream f ("/proc/self/status");
    std::string line;
    while (std::getline (f, line))
        if (line.rfind ("VmHWM:", 0) == 0)
            return std::stol (line.substr (6));
    return -1;
}

std::string jsonList (const std::vector<double>& v)
{
    std::ostringstream s;
    s.precision (9);
    s << "[";
    for (size_t i = 0; i < v.size(); ++i)
        s << (i ? ", " : "") << v[i];
    s << "]";
    return s.str();
}

void writeOutput (const std::string& path, const std::vector<float>& data)
{
    if (path.empty())
        return;
    std::ofstream f (path, std::ios::binary);
    f.write (reinterpret_cast<const char*> (data.data()), (std::streamsize) (data.size() * sizeof (float)));
}

int runRaw (const Args& a)
{
    at::set_num_threads (1);
    auto t0 = Clock::now();
    // the file read as the plugin reads it: its audio path, channels and ratio
    auto file = nnplug::readModelFile (a.model);
    auto& m = file.module;
    const auto& info = file.info;
    const double loadSeconds = since (t0);

    const bool latent = info.latentPath;
    const int ci = info.inChannels(), co = info.outChannels();
    const int n = a.buffer > 0 ? a.buffer : nnplug::autoBufferSize (info.ratio);
    const bool hasReset = info.hasReset;

    auto x = loadInput (a, a.batch * ci, (int) std::lround (a.seconds * 44100));
    const int total = (int) x[0].size() / n * n;
    if (total < n)
        usage ("input shorter than one buffer");

    // [batch][ci][T] -> one contiguous tensor; buffers are views of it, made contiguous per call
    auto signal = torch::empty ({ a.batch, ci, total });
    for (int l = 0; l < a.batch * ci; ++l)
        std::memcpy (signal.data_ptr<float>() + (size_t) l * (size_t) total, x[(size_t) l].data(), sizeof (float) * (size_t) total);

    nnplug::ModelCallScope scope;   // as the plugin calls the model
    auto forward = m.get_method (latent ? "encode" : "forward");
    std::optional<torch::jit::Method> decode;
    if (latent)
        decode = m.get_method ("decode");
    auto call = [&] (const at::Tensor& in) -> at::Tensor
    {
        auto y = forward ({ in });
        if (latent)
            y = (*decode) ({ y.toTensor() });
        return y.toTensor();
    };

    std::vector<double> first;
    auto silence = torch::zeros ({ a.batch, ci, n });
    for (int i = 0; i < a.warmup; ++i)
    {
        auto t = Clock::now();
        call (silence);
        first.push_back (since (t));
    }
    if (hasReset)
        m.get_method ("reset") ({});

    std::vector<double> rounds, cpuRounds;
    std::vector<float> out ((size_t) a.batch * (size_t) co * (size_t) total);
    for (int r = 0; r < a.rounds; ++r)
    {
        if (hasReset)
            m.get_method ("reset") ({});
        const bool keep = r == a.rounds - 1 && ! a.output.empty();
        const double c0 = cpuNow();
        auto t = Clock::now();
        for (int pos = 0; pos < total; pos += n)
        {
            auto y = call (signal.narrow (2, pos, n).contiguous());
            if (keep)
            {
                auto yc = y.contiguous();
                for (int l = 0; l < a.batch * co; ++l)
                    std::memcpy (out.data() + (size_t) l * (size_t) total + (size_t) pos,
                                 yc.data_ptr<float>() + (size_t) l * (size_t) n, sizeof (float) * (size_t) n);
            }
        }
        rounds.push_back (since (t));
        cpuRounds.push_back (cpuNow() - c0);
    }
    writeOutput (a.output, out);

    std::cout << "{\"bench\": \"raw\", \"path\": \"" << (latent ? "encode>decode" : "forward") << "\", \"buffer\": " << n
              << ", \"batch\": " << a.batch << ", \"samples\": " << total << ", \"threads\": " << at::get_num_threads()
              << ", \"load_seconds\": " << loadSeconds << ", \"first_calls\": " << jsonList (first)
              << ", \"rounds\": " << jsonList (rounds) << ", \"cpu_rounds\": " << jsonList (cpuRounds)
              << ", \"peak_rss_kb\": " << peakRssKb() << "}" << std::endl;
    return 0;
}

int runEngine (const Args& a)
{
    nnplug::Controls controls;
    nnplug::EngineConfig cfg;
    cfg.hostRate = 44100;
    cfg.hostChannels = a.channels;
    cfg.maxBlock = std::max (a.block, 2048);   // as the JUCE layer prepares it
    cfg.hostBlock = 0;                         // any block sequence, as the JUCE layer reports
    cfg.bufferSize = a.buffer;
    cfg.mode = a.mode == "worker" ? nnplug::InferenceMode::Worker : nnplug::InferenceMode::Synchronous;

    auto t0 = Clock::now();
    auto host = std::make_unique<nnplug::ModelRunner> (a.model);
    const double loadSeconds = since (t0);
    t0 = Clock::now();
    nnplug::Engine engine (std::move (host), cfg, controls);
    const double prepareSeconds = since (t0);
    if (engine.info().sampleRate > 0 && std::lround (engine.info().sampleRate) != 44100)
        usage ("the engine benchmark runs at 44100 Hz; this model is not at that rate");

    auto x = loadInput (a, a.channels, (int) std::lround (a.seconds * 44100));
    const int total = (int) x[0].size();
    std::vector<std::vector<float>> io (x.size(), std::vector<float> ((size_t) total));
    std::vector<double> rounds, cpuRounds;
    for (int r = 0; r < a.rounds; ++r)
    {
        for (size_t c = 0; c < x.size(); ++c)
            io[c] = x[c];
        engine.requestRestart();
        const double c0 = cpuNow();
        auto t = Clock::now();
        for (int pos = 0; pos < total; pos += a.block)
        {
            float* ptrs[16];
            for (size_t c = 0; c < io.size() && c < 16; ++c)
                ptrs[c] = io[c].data() + pos;
            engine.process (ptrs, std::min (a.block, total - pos), true);
        }
        rounds.push_back (since (t));
        cpuRounds.push_back (cpuNow() - c0);
    }
    if (engine.failed())
    {
        std::cerr << "nnplug_model_bench: engine failed: " << engine.error() << "\n";
        return 1;
    }
    if (! a.output.empty())
    {
        std::vector<float> flat;
        for (auto& ch : io) flat.insert (flat.end(), ch.begin(), ch.end());
        writeOutput (a.output, flat);
    }
    std::cout << "{\"bench\": \"engine\", \"path\": \"" << engine.info().pathDescription() << "\", \"buffer\": "
              << engine.bufferSize() << ", \"batch\": " << engine.batch() << ", \"block\": " << a.block
              << ", \"mode\": \"" << a.mode << "\", \"samples\": " << total << ", \"latency\": " << engine.latency()
              << ", \"load_seconds\": " << loadSeconds << ", \"prepare_seconds\": " << prepareSeconds
              << ", \"rounds\": " << jsonList (rounds) << ", \"cpu_rounds\": " << jsonList (cpuRounds)
              << ", \"peak_rss_kb\": " << peakRssKb() << "}" << std::endl;
    return 0;
}

} // namespace

int main (int argc, char** argv)
{
    const Args a = parse (argc, argv);
    try
    {
        return a.what == "raw" ? runRaw (a) : runEngine (a);
    }
    catch (const std::exception& e)
    {
        std::string s = e.what();
        if (auto nl = s.find ('\n'); nl != std::string::npos)
            s.resize (nl);
        std::cerr << "nnplug_model_bench: " << s << "\n";
        return 1;
    }
}
