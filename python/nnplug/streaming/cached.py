"""Streaming (cached) layers. Each one keeps, between calls, exactly the state that offline
processing would have read from the neighbouring samples: the tail of the previous input
for a convolution, the overlapping tail of the previous output for a transposed
convolution, or the last samples of a signal for a pure delay.

State is created lazily with the batch size, dtype and device of the first call, and
cleared by `reset()`. It is a plain tensor attribute, not a buffer: it is never saved in a
state_dict, and assigning it is cheap in eager mode. An empty 1-D `cache` means "reset": the next call starts from
silence. All of them are TorchScript-compatible, so a converted model can be scripted
without a warm-up call.

Why the layer geometry is `Final` and slices are `narrow`: at the buffer sizes a plugin
uses, a small model's time goes to per-op dispatch, not arithmetic. `Final` attributes are
compiled into TorchScript as constants, so every branch on them (is there a cache, can the
matmul kernel apply) is decided once at scripting instead of on every call, and one
`narrow` replaces the three `slice` ops TorchScript emits for `x[:, :, a:b]`.

Half-precision weights (`store_half`, opt-in at export): a wide layer on a short buffer is a
matrix product with a few rows that reads every weight from memory on every call, so its speed
is the memory's. Such a layer can keep its weights as float16 and multiply them with fbgemm's
fp16 kernel (fp32 activations and sums, weights widened on the fly): half the bytes to read.
The layer then computes exactly what a float32 layer with the float16-rounded weights computes,
up to float32 summation order.

Int8 weights (`store_int8`, opt-in at export): the same layers keep int8 weights with one scale
per output row and multiply with fbgemm's dynamic int8 kernel, a quarter of the bytes. That
kernel also quantizes each call's input rows to 7 bits (`nnplug.streaming.int8` says why and what
it costs), so unlike float16 the result depends on what each call holds.
"""

from typing import Final, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


def _empty() -> torch.Tensor:
    return torch.zeros(0)


# fbgemm's packed weights (float16 here): built on a half layer's first call, never saved
PackedWeights = torch.classes.quantized.LinearPackedParamsBase

# in store_half: "always take the matmul kernel" (a half layer has no float32 weights for torch's conv)
_ALWAYS = 1 << 62


def _keep_weights_half(layer: nn.Module) -> None:
    """What `store_half` does to either cached conv: float16 weights, and the matmul kernel
    (the only one that takes them) for every input."""
    if layer.groups != 1:
        raise ValueError("half-precision weights need groups == 1")
    layer.weight = nn.Parameter(layer.weight.detach().half(), requires_grad=False)
    layer.half_weights = True
    layer.matmul_max_len = layer.batched_max_len = _ALWAYS


def _keep_weights_int8(layer: nn.Module, q: torch.Tensor, scale: torch.Tensor, reduce_range: bool) -> None:
    """What `store_int8` does to either cached conv: int8 weights and their per-row scales
    (`nnplug.streaming.int8.int8_grid`) in place of the float32 ones, and the matmul kernel for
    every input. `weight_scale` exists only on such layers: the int8 branches are compiled only
    where `int8_weights` is True."""
    if layer.groups != 1 or q.dtype != torch.int8 or q.shape != layer.weight.shape:
        raise ValueError("int8 weights need groups == 1 and an int8 tensor of the weights' shape")
    layer.weight = nn.Parameter(q.detach().clone(), requires_grad=False)
    layer.weight_scale = nn.Parameter(scale.detach().float().clone(), requires_grad=False)
    layer.int8_weights = True
    layer.int8_reduce_range = bool(reduce_range)
    layer.matmul_max_len = layer.batched_max_len = _ALWAYS


def _prepack_int8(rows: torch.Tensor, scale: torch.Tensor, bias: Optional[torch.Tensor]) -> PackedWeights:
    """fbgemm's packed int8 weights from (rows, reduced) int8 values and one scale per row."""
    zero_points = torch.zeros(rows.size(0), dtype=torch.long)
    weight = torch._make_per_channel_quantized_tensor(rows, scale.double(), zero_points, 0)
    return torch.ops.quantized.linear_prepack(weight, bias)


class _PastSamples(nn.Module):
    """Keeps the last `cache_len` samples of a stream and puts them in front of each new
    buffer: the state every cached layer needs.

    `own_cache = False`: the layer that feeds this one (through pointwise ops only) already
    emits those `cache_len` past samples in front of its new ones (`convert` merges the two
    caches), so this layer keeps none and makes no concatenation."""

    cache: torch.Tensor
    cache_len: Final[int]
    own_cache: Final[bool]

    def __init__(self, cache_len: int):
        super().__init__()
        self.cache_len = int(cache_len)
        self.own_cache = True
        self.cache = _empty()

    def _with_past(self, x: torch.Tensor) -> torch.Tensor:
        if not self.own_cache:
            if self.cache.dim() == 1:
                # A fresh stream's past is silence, as an own cache would hold: the layer
                # upstream computed those samples from its own silent past, which is not the same.
                past = torch.zeros(x.size(0), x.size(1), self.cache_len, dtype=x.dtype, device=x.device)
                x = torch.cat([past, x.narrow(-1, self.cache_len, x.size(-1) - self.cache_len)], -1)
                self.cache = torch.zeros(0, 0, 0)     # started (3-D: no longer a fresh stream)
            return x
        if self.cache.dim() == 1:
            self.cache = torch.zeros(x.size(0), x.size(1), self.cache_len, dtype=x.dtype, device=x.device)
        x = torch.cat([self.cache, x], -1)
        self.cache = x.narrow(-1, x.size(-1) - self.cache_len, self.cache_len)
        return x

    @torch.jit.export
    def reset(self):
        self.cache = _empty()


class CachedConv1d(_PastSamples):
    """A conv1d with no padding whose input is preceded by the last `cache_len` samples of
    the stream (zeros at the start). A negative `cache_len` means the first -cache_len
    samples of every buffer are never read (a kernel shorter than its stride) and are
    dropped instead."""

    # TorchScript reads `Final` from each class's own annotations, not its base's
    cache_len: Final[int]
    own_cache: Final[bool]
    skip: Final[int]
    stride: Final[int]
    dilation: Final[int]
    groups: Final[int]
    matmul_max_len: Final[int]
    batched_max_len: Final[int]
    half_weights: Final[bool]
    int8_weights: Final[bool]
    int8_reduce_range: Final[bool]
    packed: Optional[PackedWeights]
    columns_min_len: Final[int]

    def __init__(self, weight: torch.Tensor, bias: Optional[torch.Tensor], stride: int,
                 dilation: int, groups: int, cache_len: int):
        super().__init__(max(int(cache_len), 0))
        self.weight = nn.Parameter(weight.detach().clone(), requires_grad=False)
        self.bias = None if bias is None else nn.Parameter(bias.detach().clone(), requires_grad=False)
        self.stride = int(stride)
        self.dilation = int(dilation)
        self.groups = int(groups)
        self.skip = max(-int(cache_len), 0)
        # the longest (cached) input the matmul kernel takes: dilated layers up to 20480
        # values, any layer with at least 8 channels per sample; 0 = never (grouped convs)
        # and strided layers with wide im2col rows (C_in*k >= 512: RAVE's downsampling convs)
        # up to C_in*k/3 samples, where torch's strided conv is slower; narrower rows are faster
        # as convs (`nnplug bench streaming` times both paths)
        channels = weight.shape[1]
        row = channels * weight.shape[-1]
        self.matmul_max_len = 0 if self.groups != 1 else max(
            20480 // channels if self.dilation > 1 else 0, channels // 8,
            row // 3 if self.stride > 1 and row >= 512 else 0)
        # a batch (stereo) of short inputs: torch sends every batch > 1 to oneDNN, whose
        # per-call setup costs several times the arithmetic at these sizes
        self.batched_max_len = 0 if self.groups != 1 else 20480 // channels
        # strided layers with few channels on long inputs: `_as_columns` (0 = never). It beats
        # torch's conv from about a thousand samples; below that its extra ops cost more than
        # they save (`nnplug bench streaming --models seed`).
        self.columns_min_len = 1024 if self.groups == 1 and self.stride > 1 and 8 <= channels and row <= 256 else 0
        self.half_weights = False
        self.int8_weights = False
        self.int8_reduce_range = True
        self.packed = None

    def store_half(self) -> None:
        """Keep the weights as float16 and multiply with fbgemm's fp16 kernel (module docstring)."""
        _keep_weights_half(self)

    def store_int8(self, q: torch.Tensor, scale: torch.Tensor, reduce_range: bool = True) -> None:
        """Keep int8 weights q (C_out, C_in, k) with one scale per output channel and multiply
        with fbgemm's dynamic int8 kernel (module docstring)."""
        _keep_weights_int8(self, q, scale, reduce_range)

    def _packed(self) -> PackedWeights:
        packed = self.packed
        if packed is None:
            packed = torch.ops.quantized.linear_prepack_fp16(
                self.weight.float().reshape(self.weight.size(0), -1), self.bias)
            self.packed = packed
        return packed

    def _packed_int8(self) -> PackedWeights:
        packed = self.packed
        if packed is None:
            packed = _prepack_int8(self.weight.reshape(self.weight.size(0), -1), self.weight_scale, self.bias)
            self.packed = packed
        return packed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.cache_len > 0:
            x = self._with_past(x)
        elif self.skip > 0:
            x = x.narrow(-1, self.skip, x.size(-1) - self.skip)
        if self.batched_max_len > 0:
            if x.size(-1) <= self.matmul_max_len or (x.size(0) > 1 and x.size(-1) <= self.batched_max_len):
                return self._as_matmul(x)
        if self.columns_min_len > 0 and x.size(-1) >= self.columns_min_len:
            return self._as_columns(x)
        return F.conv1d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def _as_columns(self, x: torch.Tensor) -> torch.Tensor:
        """Weights first, (C_out, C*k) x (C*k, T_out): the taps gathered once with time as the
        inner dimension, and the product lands in the (B, C_out, T) layout the next layer reads.
        For a strided layer with few channels on a long input torch's conv spends its time
        gathering taps through a generic 2-D im2col; this gathers them with one copy."""
        k = self.weight.size(-1)
        taps = self._taps(x)                                                         # B, C, T_out, k(, 1)
        columns = taps.transpose(2, 3).reshape(x.size(0), x.size(1) * k, taps.size(2))   # B, C*k, T_out
        weight = self.weight.reshape(self.weight.size(0), -1)
        if x.size(0) == 1 and self.bias is not None:
            return torch.addmm(self.bias.unsqueeze(1), weight, columns.squeeze(0)).unsqueeze(0)
        y = torch.matmul(weight, columns)
        if self.bias is not None:
            y = y + self.bias.unsqueeze(1)
        return y

    def _as_matmul(self, x: torch.Tensor) -> torch.Tensor:
        """Streaming buffers are short. For short inputs torch's CPU conv takes native
        kernels that are slow here: a dilated one that loops sample by sample (RAVE's
        low-rate dilated layers), and an im2col one that is slower than a plain
        matrix product when there are far more channels than samples. Gather the taps
        (im2col) and do one matrix product instead.

        The product is (B*T_out, C*k) x (C*k, C_out), time first: with a handful of samples,
        MKL's sgemm is faster this way round than weights (C_out, C*k) x (C*k, T_out), and
        this product dominates a large model's time at live buffer sizes (torch.profiler
        around `nnplug bench plugin --model rave-v2`); the weights are read in place (a
        transposed view, no copy).
        Every stream of the batch (a stereo pair) shares the one product."""
        taps = self._taps(x)                                                         # B, C, T_out, k(, 1)
        batch, steps = taps.size(0), taps.size(2)
        rows = taps.transpose(1, 2).reshape(batch * steps, x.size(1) * self.weight.size(-1))   # B*T_out, C*k
        if self.int8_weights:
            y = torch.ops.quantized.linear_dynamic(rows, self._packed_int8(), self.int8_reduce_range)  # bias included
        elif self.half_weights:
            y = torch.ops.quantized.linear_dynamic_fp16(rows, self._packed())         # bias included
        else:
            # bias inside the product: one op, no second pass over the rows
            y = F.linear(rows, self.weight.reshape(self.weight.size(0), -1), self.bias)   # B*T_out, C_out
        return y.view(batch, steps, y.size(1)).transpose(1, 2)

    def _taps(self, x: torch.Tensor) -> torch.Tensor:
        """The input windows each output reads, a view (B, C, T_out, k), or (B, C, T_out, k, 1) for a
        dilated layer: its taps are picked out of each window by a second unfold, one op where
        `[:, :, :, ::dilation]` is four slices."""
        if self.dilation > 1:
            span = (self.weight.size(-1) - 1) * self.dilation + 1
            return x.unfold(-1, span, self.stride).unfold(-1, 1, self.dilation)
        return x.unfold(-1, self.weight.size(-1), self.stride)

    def extra_repr(self) -> str:
        return (f"{self.weight.shape[1] * self.groups}, {self.weight.shape[0]}, kernel={self.weight.shape[-1]}, "
                f"stride={self.stride}, dilation={self.dilation}, cache={self.cache_len}, skip={self.skip}")


class CachedConvTranspose1d(_PastSamples):
    """A transposed conv1d run on the last `cache_len` input samples plus the new buffer,
    keeping only the output samples that are complete (all their inputs present) and new.

    Caching the input rather than the overlapping output tail keeps the bias inside the
    single conv_transpose1d call (fewer ops per buffer, which matters at small buffers)
    and works for any kernel, stride, dilation and padding: padding only decides which
    output sample comes first, i.e. the delay (`delay_in * stride + padding`)."""

    cache_len: Final[int]      # (see CachedConv1d)
    own_cache: Final[bool]
    stride: Final[int]
    dilation: Final[int]
    groups: Final[int]
    output_padding: Final[int]
    matmul_max_len: Final[int]
    batched_max_len: Final[int]
    extra_out: Final[int]
    poly_min_len: Final[int]
    poly_phases: Final[int]
    half_weights: Final[bool]
    int8_weights: Final[bool]
    int8_reduce_range: Final[bool]
    packed: Optional[PackedWeights]

    def __init__(self, weight: torch.Tensor, bias: Optional[torch.Tensor], stride: int,
                 dilation: int, groups: int, extra_out: int = 0):
        # output i reads inputs (i - j*dilation)/stride: with ceil((span-1)/stride) past inputs
        # in front, outputs from cache_len*stride on are complete. `extra_out` > 0: also emit
        # the last `extra_out` outputs of the previous buffer in front (the past the next
        # layer needs, see _PastSamples.own_cache): ceil((span-1+extra_out)/stride) past inputs.
        span = (weight.shape[-1] - 1) * int(dilation) + 1
        super().__init__(-(-(span - 1 + int(extra_out)) // int(stride)))
        self.extra_out = int(extra_out)
        self.weight = nn.Parameter(weight.detach().clone(), requires_grad=False)
        self.bias = None if bias is None else nn.Parameter(bias.detach().clone(), requires_grad=False)
        self.stride = int(stride)
        self.dilation = int(dilation)
        self.groups = int(groups)
        # a kernel shorter than its stride leaves structural zeros at the end: make torch emit them
        self.output_padding = max(self.stride - span, 0)
        # the matmul path, only where it can win (it reads the weights in place: no second copy):
        # wide layers, on inputs of at most one sample per 8 channels; 0 = never
        self.matmul_max_len = weight.shape[0] // 8 if self.groups == 1 and weight.shape[0] >= 64 else 0
        # batches (stereo): see CachedConv1d
        self.batched_max_len = 20480 // weight.shape[0] if self.groups == 1 else 0
        # the polyphase path (see _polyphase) for small layers on long inputs; 0 = never. It
        # holds its own layout of the weights, so only layers of at most 64k weights get one.
        c_in, c_out, k = weight.shape
        self.poly_min_len = 0
        self.poly_phases = 0
        poly_weight, poly_bias = torch.zeros(0), torch.zeros(0)
        if self.groups == 1 and self.dilation == 1 and weight.numel() <= 65536:
            # torch's col2im kernel is fast while its column buffer (C_out*k*T values) fits in
            # a 32 KB L1 cache, and the polyphase product needs a few hundred samples to pay
            # for its extra ops (`nnplug bench streaming --models seed` times both)
            self.poly_min_len = max(256, -(-8192 // (c_out * k)))
            self.poly_phases = taps = -(-k // self.stride)
            padded = F.pad(weight.detach(), (0, taps * self.stride - k))             # C_in, C_out, J*s
            # output s*q + p sums tap s*j + p of input q - j: rows (p, C_out), columns (j, C_in)
            poly_weight = padded.view(c_in, c_out, taps, self.stride).permute(3, 1, 2, 0) \
                .reshape(self.stride * c_out, taps * c_in).contiguous()
            b = bias.detach() if bias is not None else torch.zeros(c_out, dtype=weight.dtype)
            poly_bias = b.repeat(self.stride).unsqueeze(1).contiguous()
        self.poly_weight = nn.Parameter(poly_weight, requires_grad=False)
        self.poly_bias = nn.Parameter(poly_bias, requires_grad=False)
        self.half_weights = False
        self.int8_weights = False
        self.int8_reduce_range = True
        self.packed = None

    def _drop_polyphase(self) -> None:
        self.poly_min_len = 0
        self.poly_weight = nn.Parameter(torch.zeros(0), requires_grad=False)
        self.poly_bias = nn.Parameter(torch.zeros(0), requires_grad=False)

    def store_half(self) -> None:
        """Keep the weights as float16 and multiply with fbgemm's fp16 kernel (module docstring)."""
        _keep_weights_half(self)
        self._drop_polyphase()

    def store_int8(self, q: torch.Tensor, scale: torch.Tensor, reduce_range: bool = True) -> None:
        """Keep int8 weights q (C_in, C_out, k) with one scale per output channel and tap (C_out * k
        scales, channel-major) and multiply with fbgemm's dynamic int8 kernel (module docstring)."""
        _keep_weights_int8(self, q, scale, reduce_range)
        self._drop_polyphase()

    def _packed(self) -> PackedWeights:
        packed = self.packed
        if packed is None:
            # (B*T, C_in) x (C_in, C_out*k), as a linear layer: weights (C_out*k, C_in); bias after the fold
            packed = torch.ops.quantized.linear_prepack_fp16(
                self.weight.float().reshape(self.weight.size(0), -1).t().contiguous(), None)
            self.packed = packed
        return packed

    def _packed_int8(self) -> PackedWeights:
        packed = self.packed
        if packed is None:
            # as `_packed`: rows (C_out*k) of C_in weights; bias after the fold
            packed = _prepack_int8(self.weight.reshape(self.weight.size(0), -1).t().contiguous(), self.weight_scale,
                                   None)
            self.packed = packed
        return packed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.cache_len > 0:
            x = self._with_past(x)
        if self.poly_min_len > 0 and x.size(-1) >= self.poly_min_len:
            return self._polyphase(x)
        if self.batched_max_len > 0 and (
                x.size(-1) <= self.matmul_max_len or (x.size(0) > 1 and x.size(-1) <= self.batched_max_len)):
            y = self._as_matmul(x)
        else:
            y = F.conv_transpose1d(x, self.weight, self.bias, self.stride, 0, self.output_padding, self.groups,
                                   self.dilation)
        return y.narrow(-1, self.cache_len * self.stride - self.extra_out,
                        (x.size(-1) - self.cache_len) * self.stride + self.extra_out)

    def _as_matmul(self, x: torch.Tensor) -> torch.Tensor:
        """With far more channels than samples (RAVE's low-rate upsampling layers at small
        buffers) torch's CPU transposed conv is memory-bound and slow; one matrix product
        with the (C_in, C_out*k) weights, then an overlap-add of the
        taps into place (col2im, `fold`), is faster. Time first, (B*T, C_in) x (C_in, C_out*k):
        the weights as stored, and MKL's sgemm is faster this way round on few samples;
        every stream of the batch shares the one product."""
        k = self.weight.size(2)
        batch, steps = x.size(0), x.size(-1)
        inputs = x.transpose(1, 2).reshape(batch * steps, x.size(1))                  # B*T, C_in
        if self.int8_weights:
            rows = torch.ops.quantized.linear_dynamic(inputs, self._packed_int8(), self.int8_reduce_range)
        elif self.half_weights:
            rows = torch.ops.quantized.linear_dynamic_fp16(inputs, self._packed())
        else:
            rows = torch.mm(inputs, self.weight.reshape(self.weight.size(0), -1))     # B*T, C_out*k
        columns = rows.view(batch, steps, rows.size(1)).transpose(1, 2)                # B, C_out*k, T
        length = (x.size(-1) - 1) * self.stride + (k - 1) * self.dilation + 1 + self.output_padding
        y = F.fold(columns, [1, length], [1, k], dilation=[1, self.dilation], stride=[1, self.stride]).squeeze(2)
        if self.bias is not None:
            y = y + self.bias.unsqueeze(-1)
        return y

    def _polyphase(self, x: torch.Tensor) -> torch.Tensor:
        """Output sample s*q + p is the sum over j of tap s*j + p applied to input q - j: for
        all s phases at once, one matrix product of the (s*C_out, J*C_in) rearranged weights
        with the J shifted copies of the input, then the phases interleaved. On long inputs
        this beats torch's transposed conv, whose column buffer outgrows the cache; it
        computes only the outputs this call keeps (from `first`) and no zeros."""
        s = self.stride
        start = self.cache_len * s - self.extra_out           # first output sample kept
        first = start // s                                    # >= poly_phases - 1: all taps present
        steps = x.size(-1) - first
        shifted = torch.cat([x.narrow(-1, first - j, steps) for j in range(self.poly_phases)], 1)
        if x.size(0) == 1:
            phases = torch.addmm(self.poly_bias, self.poly_weight, shifted.squeeze(0)).unsqueeze(0)
        else:
            phases = torch.matmul(self.poly_weight, shifted) + self.poly_bias
        c_out = self.poly_weight.size(0) // s
        y = phases.view(x.size(0), s, c_out, steps).permute(0, 2, 3, 1).reshape(x.size(0), c_out, steps * s)
        return y.narrow(-1, start - first * s, (x.size(-1) - self.cache_len) * s + self.extra_out)

    def extra_repr(self) -> str:
        return (f"{self.weight.shape[0]}, {self.weight.shape[1] * self.groups}, kernel={self.weight.shape[-1]}, "
                f"stride={self.stride}, dilation={self.dilation}, cache={self.cache_len}")


class Delay(_PastSamples):
    """A pure delay line of `samples` samples: aligns a path with a slower parallel one."""

    cache_len: Final[int]      # (see CachedConv1d)
    own_cache: Final[bool]

    def __init__(self, samples: int):
        if samples <= 0:
            raise ValueError("a Delay needs a positive number of samples")
        super().__init__(samples)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._with_past(x).narrow(-1, 0, x.size(-1))

    def extra_repr(self) -> str:
        return str(self.cache_len)


class InputGuard(nn.Module):
    """First node of every streaming model: refuses buffers that would make the stream
    drift (length not a multiple of the model's ratio) and a batch size that differs from
    the one the state was built for."""

    ratio: Final[int]
    channels: Final[int]

    def __init__(self, ratio: int, channels: int):
        super().__init__()
        self.ratio = int(ratio)
        self.channels = int(channels)
        self.batch = -1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3:
            raise RuntimeError("nnplug streaming: expected input (batch, channels, time), got {} dimensions".format(x.dim()))
        if self.channels > 0 and x.size(1) != self.channels:
            raise RuntimeError("nnplug streaming: expected {} input channels, got {}".format(self.channels, x.size(1)))
        if x.size(-1) % self.ratio != 0:
            raise RuntimeError(
                "nnplug streaming: buffer of {} samples is not a multiple of the model ratio {}; "
                "use buffers of k*{} samples".format(x.size(-1), self.ratio, self.ratio))
        if self.batch < 0:
            self.batch = x.size(0)
        elif x.size(0) != self.batch:
            raise RuntimeError(
                "nnplug streaming: batch size changed from {} to {}; call reset() before streaming "
                "with a new batch size".format(self.batch, x.size(0)))
        return x

    @torch.jit.export
    def reset(self):
        self.batch = -1
