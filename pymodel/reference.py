"""Bit-exact integer reference of the conv3x3 engine (docs/engine.md, "Integer semantics").

Three accumulator computations mirror the three RTL arithmetics and must agree bit for bit:

* `acc_multiply`   - MULT: integer products a*w.
* `acc_shift_add`  - SHIFT: each weight split into power-of-two terms; the accumulator is
  sum over (term, exponent) of (conv with a {-1,0,1} plane) << exponent.
* `acc_product_lut`- PLUT: a product table lut[v][j] = v*L[j] indexed by activation and code.

Speed comes from torch float32 convolutions, used only where they are provably exact: every
plane is small enough that the worst-case |partial sum| (cin*9*max_a*max|plane|) stays below
2^24, so every float32 product and partial sum is an exactly representable integer whatever
the summation order. Planes are recombined in int64. A pure int64 path (`acc_int64`) is the
fallback and the test oracle.
"""

from __future__ import annotations

import math

import numpy as np

from . import codes as C
from .contract import A_BITS_MAX, A_BITS_MIN  # the one legal A_BITS range (spec/conv_engine.hjson)
from .types import ConvWeights, QuantizedLayer

F32_EXACT_LIMIT = 1 << 24  # integers below this are exact in float32
TAPS = 9
SMALL_CONV_MACS = 1 << 25  # up to here (every tile set) the int64 matmul beats importing torch


class ReferenceInputError(ValueError):
    """Arrays handed to the reference have the wrong shape, dtype or range."""


# ----------------------------------------------------------------------------- checks


def check_act(act: np.ndarray, a_bits: int | None = None) -> np.ndarray:
    act = np.asarray(act)
    if act.ndim != 3:
        raise ReferenceInputError(f"activations must be [Cin,H,W], got shape {act.shape}")
    if not np.issubdtype(act.dtype, np.integer):
        raise ReferenceInputError(f"activations must be integers, got dtype {act.dtype}")
    if act.size and (act.min() < 0 or act.max() > 255):
        raise ReferenceInputError(
            f"activations must be unsigned 8-bit or narrower, got [{act.min()}, {act.max()}]"
        )
    if a_bits is not None:
        if not A_BITS_MIN <= a_bits <= A_BITS_MAX:
            raise ReferenceInputError(f"a_bits must be {A_BITS_MIN}..{A_BITS_MAX}, got {a_bits}")
        if act.size and act.max() >= (1 << a_bits):
            raise ReferenceInputError(f"activation {act.max()} does not fit a_bits={a_bits}")
    return act


def _check_weights(w: np.ndarray, cin: int, what: str = "weights") -> np.ndarray:
    w = np.asarray(w)
    if w.ndim != 4 or w.shape[1:] != (cin, 3, 3):
        raise ReferenceInputError(f"{what} must be [Cout,{cin},3,3] to match the activations, got {w.shape}")
    if not np.issubdtype(w.dtype, np.integer):
        raise ReferenceInputError(f"{what} must be integers, got dtype {w.dtype}")
    return w


def acc_bits_for(layer: QuantizedLayer, cin: int, a_bits: int) -> int:
    """Accumulator width for `layer`'s code format with `cin` inputs of `a_bits` (docs/engine.md)."""
    max_w = C.max_abs_weight(layer.scheme, layer.w_bits, layer.exp1_bits, layer.exp2_bits, layer.level_desc)
    return C.acc_bits(cin, a_bits, max_w)


# ----------------------------------------------------------------------------- exact convs


def acc_int64(act: np.ndarray, wint: np.ndarray) -> np.ndarray:
    """Plain int64 convolution (im2col + integer matmul): the slow, obviously-correct oracle."""
    act = check_act(act)
    wint = _check_weights(wint, act.shape[0])
    cin, h, w = act.shape
    padded = np.zeros((cin, h + 2, w + 2), dtype=np.int64)
    padded[:, 1:-1, 1:-1] = act
    cols = np.stack([padded[:, ky : ky + h, kx : kx + w] for ky in range(3) for kx in range(3)], axis=1)
    cols = cols.reshape(cin * TAPS, h * w)
    return (wint.reshape(wint.shape[0], -1).astype(np.int64) @ cols).reshape(-1, h, w)


def _exact_plane_convs(act: np.ndarray, planes: np.ndarray) -> np.ndarray:
    """conv(act, planes[p]) for every plane p, exactly, as int64 [P, Cout, H, W].

    planes: small integers [P, Cout, Cin, 3, 3]. Input channels are split into groups so that
    cin_group*9*max_a*max|plane| < 2^24 (float32 exact); groups are summed in int64.
    """
    n_planes, cout, cin = planes.shape[:3]
    h, w = act.shape[1:]
    if n_planes == 0:
        return np.zeros((0, cout, h, w), dtype=np.int64)
    max_a = int(act.max()) if act.size else 0
    max_p = int(np.abs(planes).max()) if planes.size else 0
    if max_a == 0 or max_p == 0:
        return np.zeros((n_planes, cout, h, w), dtype=np.int64)
    per_channel_bound = TAPS * max_a * max_p
    group = max(1, (F32_EXACT_LIMIT - 1) // per_channel_bound)
    small = n_planes * cout * cin * TAPS * h * w <= SMALL_CONV_MACS
    if small or per_channel_bound >= F32_EXACT_LIMIT:
        # a tile (the integer matmul is quick and spares the torch import), or a single channel's
        # 9 products could already be inexact: the integer path
        flat = planes.reshape(n_planes * cout, cin, 3, 3)
        return acc_int64(act, flat).reshape(n_planes, cout, h, w)
    import torch  # here, not at import: a simulator start pays ~10 s for it, most never convolve

    x = torch.from_numpy(np.ascontiguousarray(act, dtype=np.float32))[None]
    wt = torch.from_numpy(np.ascontiguousarray(planes.reshape(n_planes * cout, cin, 3, 3), dtype=np.float32))
    total = np.zeros((n_planes * cout, h, w), dtype=np.int64)
    for c0 in range(0, cin, group):
        c1 = min(cin, c0 + group)
        assert (c1 - c0) * per_channel_bound < F32_EXACT_LIMIT  # exactness precondition
        with torch.no_grad():
            y = torch.nn.functional.conv2d(x[:, c0:c1], wt[:, c0:c1], padding=1)[0]
        total += y.numpy().astype(np.int64)
    return total.reshape(n_planes, cout, h, w)


def _digit_base_bits(cin: int, max_a: int) -> int:
    """Largest k such that digits of k bits keep a whole-cin plane conv float32-exact."""
    max_digit = (F32_EXACT_LIMIT - 1) // max(1, cin * TAPS * max(1, max_a))
    return max(1, int(max_digit + 1).bit_length() - 1)


def acc_multiply(act_u8: np.ndarray, wint: np.ndarray) -> np.ndarray:
    """MULT accumulators int64 [Cout,H,W] of integer weights `wint` [Cout,Cin,3,3].

    |w| is split into base-2^k digits (k chosen so each digit plane is float32-exact);
    acc = sum_d sign*conv(act, digit_d) * 2^(k*d), recombined in int64.
    """
    act = check_act(act_u8)
    wint = _check_weights(wint, act.shape[0]).astype(np.int64)
    max_w = int(np.abs(wint).max()) if wint.size else 0
    if max_w == 0:
        return np.zeros((wint.shape[0],) + act.shape[1:], dtype=np.int64)
    k = _digit_base_bits(act.shape[0], int(act.max()) if act.size else 0)
    n_digits = math.ceil(max_w.bit_length() / k)
    sign = np.sign(wint)
    mag = np.abs(wint)
    planes = np.stack([sign * ((mag >> (k * d)) & ((1 << k) - 1)) for d in range(n_digits)])
    convs = _exact_plane_convs(act, planes)
    acc = np.zeros(convs.shape[1:], dtype=np.int64)
    for d in range(n_digits):
        acc += convs[d] << (k * d)
    return acc


# ----------------------------------------------------------------------------- shift-add

def acc_shift_add(
    act: np.ndarray,
    codes: np.ndarray,
    scheme: str,
    w_bits: int,
    exp1_bits: int = 0,
    exp2_bits: int = 0,
    level_desc: np.ndarray | None = None,
) -> np.ndarray:
    """SHIFT accumulators: sum over terms of conv(act, {-1,0,1} plane) << exponent (int64)."""
    act = check_act(act)
    c = _check_weights(codes, act.shape[0], "codes")
    # the weights as power-of-two terms read straight from the code fields (each format's own
    # decomposition): decode(codes) == sum(plane << exponent), planes in {-1, 0, 1}
    terms = C.code_format(scheme, w_bits, exp1_bits, exp2_bits).shift_add_terms(c, level_desc)
    acc = np.zeros((c.shape[0],) + act.shape[1:], dtype=np.int64)
    if not terms:
        return acc
    convs = _exact_plane_convs(act, np.stack([p for _, p in terms]))
    for (exponent, _), plane_sum in zip(terms, convs, strict=True):
        acc += plane_sum << exponent  # add/subtract only, then a shift
    return acc


# ----------------------------------------------------------------------------- product LUT


def product_table(levels: np.ndarray, a_bits: int) -> np.ndarray:
    """lut[v][j] = v * levels[j] for every a_bits activation value v (int64 [2^a_bits, n])."""
    if not A_BITS_MIN <= a_bits <= A_BITS_MAX:
        raise ReferenceInputError(f"a_bits must be {A_BITS_MIN}..{A_BITS_MAX}, got {a_bits}")
    return np.arange(1 << a_bits, dtype=np.int64)[:, None] * np.asarray(levels, dtype=np.int64)[None, :]


def code_levels(layer: QuantizedLayer) -> np.ndarray:
    """The integer weight of every code value 0..2^w_bits-1 (the PLUT codebook of any scheme)."""
    all_codes = np.arange(1 << layer.w_bits, dtype=np.uint8)
    return C.decode(
        all_codes, layer.scheme, layer.w_bits, layer.exp1_bits, layer.exp2_bits, layer.level_desc
    ).astype(np.int64)


GATHER_LIMIT = 1 << 25  # products gathered literally below this many (tiles); planes above


def acc_product_lut(
    act: np.ndarray,
    codes: np.ndarray,
    level_desc: np.ndarray | None = None,
    *,
    levels: np.ndarray | None = None,
    a_bits: int = 8,
    method: str = "auto",
) -> np.ndarray:
    """PLUT accumulators from the product table lut[v][j] = v*L[j].

    L comes from the ios `level_desc` or, for any other code format, `levels` (the decoded
    value of each code, see `code_levels`). method "gather" literally sums lut[a][code] over
    the 9*Cin taps (small tiles); "planes" uses the identity sum_{taps: code=j} lut[a][j] =
    lut[1][j] * conv(a, [code == j]) (lut is linear in v), one exact conv per level; "auto"
    gathers when Cout*Cin*9*H*W <= GATHER_LIMIT.
    """
    act = check_act(act, a_bits)
    c = _check_weights(codes, act.shape[0], "codes")
    if (level_desc is None) == (levels is None):
        raise ReferenceInputError("acc_product_lut needs exactly one of level_desc (ios) or levels")
    lv = C.level_values(level_desc) if level_desc is not None else np.asarray(levels, dtype=np.int64)
    if lv.ndim != 1 or (c.size and c.max() >= lv.shape[0]):
        raise ReferenceInputError(
            f"codes index {lv.shape[0] if lv.ndim == 1 else '?'} levels, max code {c.max()}"
        )
    lut = product_table(lv, a_bits)
    cout, cin = c.shape[:2]
    h, w = act.shape[1:]
    if method == "auto":
        method = "gather" if cout * cin * TAPS * h * w <= GATHER_LIMIT else "planes"
    if method == "gather":
        padded = np.zeros((cin, h + 2, w + 2), dtype=np.intp)
        padded[:, 1:-1, 1:-1] = act
        taps = np.stack([padded[:, ky : ky + h, kx : kx + w] for ky in range(3) for kx in range(3)], axis=1)
        idx = c.reshape(cout, cin, TAPS).astype(np.intp)
        acc = np.zeros((cout, h, w), dtype=np.int64)
        step = max(1, GATHER_LIMIT // max(1, cin * TAPS * h * w))
        for o0 in range(0, cout, step):  # bounded memory
            products = lut[taps[None], idx[o0 : o0 + step, :, :, None, None]]  # [o, ci, tap, y, x]
            acc[o0 : o0 + step] = products.sum(axis=(1, 2))
        return acc
    if method != "planes":
        raise ReferenceInputError(f"unknown method {method!r}; expected auto, gather or planes")
    used = [j for j in np.unique(c).tolist() if lut[1, j] != 0]
    acc = np.zeros((cout, h, w), dtype=np.int64)
    if not used:
        return acc
    convs = _exact_plane_convs(act, np.stack([(c == j).astype(np.int8) for j in used]))
    for j, act_sum in zip(used, convs, strict=True):
        acc += act_sum * lut[1, j]
    return acc


def layer_acc(act: np.ndarray, layer: QuantizedLayer, arith: str = "multiply", a_bits: int = 8) -> np.ndarray:
    """Accumulators of `layer` with one of the three arithmetics ('multiply'|'shift_add'|'product_lut')."""
    if arith == "multiply":
        return acc_multiply(act, layer.wint)
    if arith == "shift_add":
        return acc_shift_add(
            act, layer.codes, layer.scheme, layer.w_bits, layer.exp1_bits, layer.exp2_bits, layer.level_desc
        )
    if arith == "product_lut":
        if layer.scheme == "ios":
            return acc_product_lut(act, layer.codes, layer.level_desc, a_bits=a_bits)
        return acc_product_lut(act, layer.codes, levels=code_levels(layer), a_bits=a_bits)
    raise ReferenceInputError(f"unknown arithmetic {arith!r}; expected multiply, shift_add or product_lut")


# ----------------------------------------------------------------------------- requantization


def requant_params(
    layer: QuantizedLayer, conv8_bias_float: np.ndarray | None, a_frac: int, out_frac: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bias_int int32[Cout], shift uint8[Cout], residual float64[Cout]).

    Real multiplier M = 2^-a_frac * wscale / 2^-out_frac maps the accumulator scale to the
    output scale; hardware applies 2^-shift with shift = round(-log2 M) in 0..31 and the
    residual M*2^shift (1 for power-of-two scales) is folded into the next layer.
    bias_int = round(bias / (2^-a_frac * wscale)) saturated to int32. `conv8_bias_float`
    None means the layer's own (possibly refitted) bias.
    """
    wscale = np.asarray(layer.wscale, dtype=np.float64)
    bias = np.asarray(layer.bias if conv8_bias_float is None else conv8_bias_float, dtype=np.float64)
    if wscale.ndim != 1 or bias.shape != wscale.shape:
        raise ReferenceInputError(f"bias {bias.shape} and wscale {wscale.shape} must both be [Cout]")
    bad = np.flatnonzero(~np.isfinite(wscale) | (wscale <= 0))
    if bad.size:
        raise ReferenceInputError(
            f"wscale must be positive and finite; channel {bad[0]} has {wscale[bad[0]]}"
        )
    if not np.isfinite(bias).all():
        raise ReferenceInputError("bias contains NaN or inf")
    acc_scale = np.ldexp(wscale, -int(a_frac))
    multiplier = np.ldexp(wscale, int(out_frac) - int(a_frac))
    shift = np.clip(np.rint(-np.log2(multiplier)), 0, 31).astype(np.uint8)
    residual = np.ldexp(multiplier, shift.astype(np.int64))
    i32 = np.iinfo(np.int32)
    bias_int = np.clip(np.rint(bias / acc_scale), i32.min, i32.max).astype(np.int32)
    return bias_int, shift, residual


def float_conv3x3(x: np.ndarray, conv: ConvWeights) -> np.ndarray:
    """Float conv (stride 1, pad 1) + bias of [N,Cin,H,W] inputs, float32 [N,Cout,H,W], no ReLU."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 4 or x.shape[1] != conv.weight.shape[1]:
        raise ReferenceInputError(f"inputs must be [N,{conv.weight.shape[1]},H,W], got {x.shape}")
    import torch

    with torch.no_grad():
        y = torch.nn.functional.conv2d(
            torch.from_numpy(x),
            torch.from_numpy(np.asarray(conv.weight, np.float32)),
            torch.from_numpy(np.asarray(conv.bias, np.float32)),
            padding=1,
        )
    return y.numpy()


def out_frac_from_calibration(
    conv: ConvWeights, calib_float: np.ndarray, a_bits: int, percentile: float = 99.99
) -> int:
    """Power-of-two output scale 2^-out_frac for `a_bits` outputs from the calibration crops.

    The float conv8 outputs after ReLU are clipped at their `percentile`; out_frac is the
    largest integer with (2^a_bits - 1) * 2^-out_frac >= that value.
    """
    if not A_BITS_MIN <= a_bits <= A_BITS_MAX:
        raise ReferenceInputError(f"a_bits must be {A_BITS_MIN}..{A_BITS_MAX}, got {a_bits}")
    relu = np.maximum(float_conv3x3(calib_float, conv), 0)
    clip = float(np.percentile(relu, percentile))
    if not np.isfinite(clip) or clip <= 0:
        raise ReferenceInputError(
            "calibration outputs are all zero after ReLU; cannot choose an output scale"
        )
    return math.floor(math.log2(((1 << a_bits) - 1) / clip))


def output_stage(acc: np.ndarray, bias_int: np.ndarray, shift: np.ndarray, a_bits: int) -> np.ndarray:
    """docs/engine.md output stage: s = acc+bias; ReLU; round-half-up right shift; saturate. uint8."""
    acc = np.asarray(acc)
    if acc.ndim != 3:
        raise ReferenceInputError(f"accumulators must be [Cout,H,W], got {acc.shape}")
    cout = acc.shape[0]
    bias_int = np.asarray(bias_int)
    shift = np.asarray(shift)
    if bias_int.shape != (cout,) or shift.shape != (cout,):
        raise ReferenceInputError(f"bias {bias_int.shape} and shift {shift.shape} must be [{cout}]")
    if not A_BITS_MIN <= a_bits <= A_BITS_MAX:
        raise ReferenceInputError(f"a_bits must be {A_BITS_MIN}..{A_BITS_MAX}, got {a_bits}")
    if shift.size and (shift.min() < 0 or shift.max() > 31):
        raise ReferenceInputError(f"shift must be 0..31, got [{shift.min()}, {shift.max()}]")
    sh = shift.astype(np.int64)[:, None, None]
    r = np.maximum(acc.astype(np.int64) + bias_int.astype(np.int64)[:, None, None], 0)
    half = np.where(sh > 0, np.left_shift(1, np.maximum(sh - 1, 0)), 0)
    r = (r + half) >> sh
    return np.minimum(r, (1 << a_bits) - 1).astype(np.uint8)
