// How host channels map onto a model's lanes and back. Torch-free; python/nnplug/contract.py
// mirrors this rule for the Python reference.
//
// Terms: H host channels (H >= 1), a model reading `ci` channels and writing `co` (>= 1 each).
// The model runs on `batch` streams at once; its buffers are [batch][channel][N], so lane
// `b * ci + c` is channel c of stream b on the way in, `b * co + c` on the way out.
//
// Batch:  batch = H when ci == 1, H > 1 and the mode is PerChannel (each host channel is its
//         own stream, with its own state), else batch = 1.
// In (input lane <- host channels), in this order of precedence:
//   1. batch > 1:          lane b        <- host channel b.
//   2. ci == 1 and H > 1:  lane 0        <- downmix: s = 0; s += x[ch] for ch = 0..H-1 (float32,
//                                           in channel order); lane = s / H (float32).
//   3. otherwise:          lane c        <- host channel c % H (ci == H: one to one; a stereo
//                                           model on a mono host reads the mono channel twice;
//                                           host channels past ci are not read).
// Out (host channel <- output lanes), in this order of precedence:
//   1. batch > 1:                        host ch <- lane ch * co (channel 0 of stream ch).
//   2. co == H, or co > H with H > 1:    host ch <- lane ch (lanes past H are dropped).
//   3. co == 1:                          host ch <- lane 0 (a mono model output on every channel).
//   4. otherwise (H == 1 < co, or 1 < co < H): host ch <- mean: s = 0; s += lane[c] for
//                                        c = 0..co-1 (float32, in order); s / co (float32).
#pragma once

#include <cstddef>
#include <vector>

namespace nnplug {

enum class ChannelMode { PerChannel = 0, Downmix = 1 };

class LaneMap
{
public:
    // The source of a lane or host channel that is a mean of all the other side's.
    static constexpr int kMean = -1;

    LaneMap (int hostChannels, int modelInChannels, int modelOutChannels, ChannelMode mode);

    int hostChannels() const { return h; }
    int batch() const { return batchSize; }
    int inLanes() const { return (int) inSource.size(); }
    int outLanes() const { return outCount; }

    // Which host channel feeds input lane `lane`, or kMean (the downmix).
    int inputSource (int lane) const { return inSource[(std::size_t) lane]; }
    // Which output lane feeds host channel `ch`, or kMean (the mean of all output lanes).
    int outputSource (int ch) const { return outSource[(std::size_t) ch]; }

    // The input lanes of a block of `len` samples. A lane that is a host channel is that
    // channel's pointer (no copy); a mean is computed into means[lane] (inLanes() buffers, only
    // the ones of kMean lanes are written).
    void toLanes (const float* const* host, int len, const float** lanes, float* const* means) const noexcept;

    // The host channels of a block from the output lanes, the same way: a host channel that is
    // a lane is that lane's pointer; a mean is computed into means[ch] (hostChannels() buffers).
    void toHost (const float* const* lanes, int len, const float** host, float* const* means) const noexcept;

private:
    int h = 1, batchSize = 1, outCount = 1;
    std::vector<int> inSource, outSource;
};

} // namespace nnplug
