// Streaming rational sample-rate conversion with a Kaiser-windowed sinc (polyphase), and the
// host <-> model conversion pair the engine uses when the host rate differs from the model's.
//
// Time grid. For an input rate Fi and an output rate Fo with g = gcd(Fi, Fo), up = Fo / g and
// down = Fi / g, both streams live on a common fine grid of Fi * up = Fo * down ticks per
// second: input sample i sits at tick i * up, output sample j at tick j * down. Output j is the
// band-limited input evaluated at tick j * down - delay, where `delay` is an integer number of
// ticks chosen at construction. Because the pair below uses the same fine grid on both sides
// (host->model and model->host), the round trip's delay is an exact integer number of ticks,
// and the pair pads the output side's delay so that the whole chain (resampling + the model's
// buffering and delay in model samples) is an integer number of host samples.
//
// Quality (see designResampler): passband to 0.45 * min(Fi, Fo) with ripple
// <= 10^(-A/20) (A = 100 dB: 1e-5), stopband from 0.5 * min(Fi, Fo) attenuated by >= A dB, so
// nothing above the lower Nyquist frequency aliases into the audio band. Each polyphase branch
// is normalised to unit DC gain.
//
// Real-time: all memory is allocated at construction; push/pull never allocate or lock.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace nnplug {

struct ResamplerDesign
{
    double attenuationDb = 100.0;   // stopband attenuation A; passband ripple 10^(-A/20)
    double passFraction = 0.45;     // passband edge, fraction of min(Fi, Fo)
    double stopFraction = 0.50;     // stopband edge, fraction of min(Fi, Fo)
};

class Resampler
{
public:
    // Throws std::invalid_argument for rates <= 0 or a rate pair whose tables would be huge.
    Resampler (int inRate, int outRate, int lanes, int maxPush, int64_t delayTicks,
               const ResamplerDesign& design = {});

    int up() const { return upF; }
    int down() const { return downF; }
    int halfTaps() const { return K; }          // K: output j reads inputs i0 - K + 1 .. i0 + K
    int64_t delayTicks() const { return delay; }

    // Appends n <= maxPush input samples per lane (in[lane][0..n)).
    void push (const float* const* in, int n) noexcept;
    // Output samples computable from the input pushed so far.
    int available() const noexcept;
    // Writes the next n output samples per lane. Samples not yet computable (an underrun:
    // never happens when the caller keeps the documented schedule) are written as zeros and
    // counted, and the output clock still advances, so alignment is kept.
    void pull (float* const* out, int n) noexcept;
    // Back to the start of a stream (silence before it).
    void reset() noexcept;

    int64_t underruns() const { return underrunCount; }

    // The largest number of outputs that can become available from one push of n inputs.
    int maxOutputsPerPush (int n) const;

    // K for a rate pair and design, without building the tables.
    static int halfTapsFor (int inRate, int outRate, const ResamplerDesign& design = {});

private:
    int lanes = 1, upF = 1, downF = 1, K = 1, taps = 2, cap = 0, maxIn = 0;
    int64_t delay = 0;
    std::vector<float> coef;       // [up][taps], branch phi: coefficient m multiplies x[i0 - K + 1 + m]
    std::vector<float> hist;       // [lane][cap]
    int64_t histStart = 0;         // absolute input index of hist[lane][0]
    int64_t histEnd = 0;           // one past the last pushed input index
    int64_t nextOut = 0;           // absolute index of the next output
    int64_t underrunCount = 0;

    int64_t baseIndex (int64_t j, int& phase) const noexcept;   // i0 and phase of output j
};

// Host <-> model conversion with an exact integer latency in host samples.
class ResamplingPair
{
public:
    // modelSideDelay: the model path's delay in model samples (buffering + the model's own
    // delay), known before construction, so the output delay can be padded to make the total
    // an integer number of host samples.
    ResamplingPair (int hostRate, int modelRate, int inLanes, int outLanes, int maxHostBlock, int modelSideDelay);

    Resampler& toModel() { return *in; }
    Resampler& toHost() { return *out; }
    // Exact latency of host -> model path (modelSideDelay) -> host, in host samples.
    int latency() const { return lat; }
    // The most model samples one host block of maxHostBlock can yield.
    int maxModelBlock() const { return maxModel; }
    void reset() noexcept;

private:
    std::unique_ptr<Resampler> in, out;
    int lat = 0, maxModel = 0;
};

} // namespace nnplug
