"""Synthetic stress layers: the edge cases real conv8 tiles rarely reach, as small vector sets.

* weight codes: on kept positions drawn uniformly over all 2^w_bits codes (the pot/apot
  "negative zero" codes with m==0, s==1 included); as many distinct codes as there are kept
  positions (every code at least once when there are enough); pruned positions hold the zero code;
* KRP: a random row per kernel; IKR: a random pattern per kernel from the real layer's library;
* activations: ~40% the maximum 2^a_bits-1, ~20% zero, the rest uniform;
* ios: 16 level descriptors with the quantizer's largest exponent, every mantissa {1,3,5,7},
  both signs and the zero level (at index 0), so the products reach +-7*2^7*(2^a_bits-1); a
  sign-symmetric scheme (ios4s) gets a sign-symmetric codebook at its exponent bound
  (ios_sym_stress_levels);
* requantization: a shift from the accumulator spread and a random signed bias around each
  channel's median, so outputs cover 0..2^a_bits-1 with zero-clamped and saturated values;
  output channel 0 uses shift 0 (the no-rounding path).

They are labelled synthetic: manifest `stress: true`, `weights_source`
"synthetic(stress: every code, max activations, seed N)", `tile` null.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import codes as C
from . import reference as R
from .quant import _IOS_GAINS
from .types import QuantizedLayer

STRESS_SHAPES = ((20, 24, 5, 7), (9, 5, 2, 1))  # (cin, cout, h, w): a larger and a degenerate layer
STRESS_PRUNINGS = ("dense", "krp", "ikr")
ACT_MAX_FRACTION = 0.4
ACT_ZERO_FRACTION = 0.2
IOS_MAX_EXP = int(math.log2(max(_IOS_GAINS)))  # largest level exponent the ios quantizer produces (7)
_E = IOS_MAX_EXP
# the 15 non-zero stress ios levels: +-7*2^E (the extremes), every mantissa at 2^E, smaller
# levels down to +-1 (mantissas 1, 3, 5, 7 at several exponents)
IOS_STRESS_VALUES = (
    7 << _E,
    -(7 << _E),
    5 << _E,
    -(5 << _E),
    -(3 << _E),
    1 << _E,
    -(7 << (_E - 1)),
    7 << (_E - 2),
    -80,
    40,
    -12,
    6,
    3,
    1,
    -1,
)
LAYER_NAME = "synthetic stress layer (edge cases, not conv8)"


@dataclass(frozen=True)
class StressSet:
    """One stress layer ready for `vectors.export_vectors`."""

    name: str
    layer: QuantizedLayer
    act: np.ndarray
    a_bits: int
    bias_int: np.ndarray
    shift: np.ndarray
    residual: np.ndarray
    meta: dict


def ios_stress_levels() -> np.ndarray:
    """The 16 stress ios descriptors: zero at index 0, then the non-zero levels ascending."""
    return np.array([0] + [C.encode_level(v) for v in sorted(IOS_STRESS_VALUES)], np.uint8)


def ios_sym_stress_levels(max_exp: int) -> np.ndarray:
    """The 16 stress descriptors of a sign-symmetric codebook (scheme ios4s): the magnitudes
    0, 7*2^E, 5*2^E, 3*2^E, 2^E (the extremes at E = max_exp), 1, 3, 5 (and 7 ...), ascending at 0..7, and
    their negatives at 8..15 (desc[8] = 0x80: the negative zero, so every code decodes)."""
    wanted = [7 << max_exp, 5 << max_exp, 3 << max_exp, 1 << max_exp, 1, 3, 5, 7]
    wanted += [m << e for e in range(max_exp, -1, -1) for m in (7, 5, 3, 1)]
    mags = []
    for v in wanted:
        if v not in mags and len(mags) < 7:
            mags.append(v)
    mags += [mags[-1]] * (7 - len(mags))  # a bound of 0 has only 4 magnitudes: repeat one
    half = [0] + [C.encode_level(v) for v in sorted(mags)]
    return np.array(half + [d | 0x80 for d in half], np.uint8)


def zero_code(scheme: str, w_bits: int, exp1_bits: int, exp2_bits: int, level_desc=None) -> int:
    """The lowest code that decodes to 0 (what pruned positions hold)."""
    all_codes = np.arange(1 << w_bits, dtype=np.uint8)
    values = C.decode(all_codes, scheme, w_bits, exp1_bits, exp2_bits, level_desc)
    zeros = np.flatnonzero(values == 0)
    if not zeros.size:
        raise ValueError(f"{scheme}{w_bits}: no code decodes to 0")
    return int(zeros[0])


def stress_activations(rng: np.random.Generator, shape: tuple, a_bits: int) -> np.ndarray:
    top = (1 << a_bits) - 1
    u = rng.random(shape)
    uniform = rng.integers(0, top + 1, shape)
    act = np.where(u < ACT_MAX_FRACTION, top, np.where(u < ACT_MAX_FRACTION + ACT_ZERO_FRACTION, 0, uniform))
    return act.astype(np.uint8)


def stress_requant(
    rng: np.random.Generator, acc: np.ndarray, a_bits: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bias_int, shift, residual) spreading the outputs over 0..2^a_bits-1 with clamping at both ends.

    shift: the pooled 10..90 percentile spread of (acc - channel median) maps to ~1.2x the output
    range, +-1 per channel at random, channel 0 gets 0; bias: minus the channel median plus a
    random 30..70% of the output range (at the accumulator scale)."""
    cout = acc.shape[0]
    top = (1 << a_bits) - 1
    flat = acc.reshape(cout, -1).astype(np.float64)
    center = np.median(flat, axis=1)
    lo, hi = np.percentile(flat - center[:, None], [10, 90])
    base = round(math.log2(max(hi - lo, 1.0) / (1.2 * top)))
    shift = np.clip(base + rng.integers(-1, 2, cout), 0, 31)
    if cout > 1:
        shift[0] = 0
    offset = rng.uniform(0.3, 0.7, cout) * top * np.ldexp(1.0, shift)
    i32 = np.iinfo(np.int32)
    bias = np.clip(np.rint(offset - center), i32.min, i32.max).astype(np.int32)
    # wscale 1, a_frac = out_frac = 0: M = 1, residual = M * 2^shift
    return bias, shift.astype(np.uint8), np.ldexp(1.0, shift.astype(np.int64))


def make_stress_set(
    tag: str,
    kind: str,
    w_bits: int,
    exp1_bits: int,
    exp2_bits: int,
    pruning: str,
    shape: tuple[int, int, int, int],
    seed: int,
    patterns: np.ndarray | None = None,
    a_bits: int = 8,
    level_desc: np.ndarray | None = None,
) -> StressSet:
    """A synthetic stress layer of code format (kind, w_bits, exp bits), `pruning` in
    STRESS_PRUNINGS, shape (cin, cout, h, w); IKR draws from `patterns` [P,3,3]; ios uses
    `level_desc` (default ios_stress_levels())."""
    from .vectors import stress_set_name

    if pruning not in STRESS_PRUNINGS:
        raise ValueError(f"stress sets support pruning {STRESS_PRUNINGS}, got {pruning!r}")
    C.check_format(kind, w_bits, exp1_bits, exp2_bits)
    cin, cout, h, w = shape
    rng = np.random.default_rng(seed)
    if kind == "ios" and level_desc is None:
        level_desc = ios_stress_levels()
    elif kind != "ios":
        level_desc = None
    else:
        level_desc = np.asarray(level_desc, np.uint8)
        C.level_values(level_desc)  # 16 valid descriptors
    extra: dict = {"scheme_name": tag}
    meta_arrays: dict = {}
    if pruning == "dense":
        mask = np.ones((cout, cin, 3, 3), bool)
    elif pruning == "krp":
        row_idx = rng.integers(0, 3, (cout, cin)).astype(np.uint8)
        keep_row = np.arange(3)[None, None, :, None] == row_idx[:, :, None, None]
        mask = np.broadcast_to(keep_row, (cout, cin, 3, 3))
        meta_arrays["row_idx"] = row_idx
        extra["k_rows"] = 1
    else:
        if patterns is None:
            raise ValueError("ikr stress sets need the pattern library")
        patterns = np.asarray(patterns, bool)
        pattern_id = rng.integers(0, len(patterns), (cout, cin)).astype(np.uint8)
        mask = patterns[pattern_id]
        meta_arrays.update(pattern_id=pattern_id, patterns=patterns.copy())
        extra.update(
            ikr_k=int(patterns[0].sum()), n_patterns=len(patterns), patterns="the real conv8 IKR library"
        )
    if kind == "ios":  # descriptive, as the quantizer records them (manifest quant_extra)
        extra.update(level_exp_max=C.level_exp_max(level_desc), ios_symmetric=C.is_sign_symmetric(level_desc))
    mask = np.ascontiguousarray(mask)
    n_codes = 1 << w_bits
    codes = np.full(mask.shape, zero_code(kind, w_bits, exp1_bits, exp2_bits, level_desc), np.uint8)
    kept = np.flatnonzero(mask)
    values = rng.integers(0, n_codes, kept.size)
    n_cover = min(kept.size, n_codes)  # a random permutation of the codes on random kept positions
    values[rng.choice(kept.size, n_cover, replace=False)] = rng.permutation(n_codes)[:n_cover]
    codes.flat[kept] = values
    wint = C.decode(codes, kind, w_bits, exp1_bits, exp2_bits, level_desc)
    act = stress_activations(rng, (cin, h, w), a_bits)
    acc = R.acc_multiply(act, wint)
    bias_int, shift, residual = stress_requant(rng, acc, a_bits)
    layer = QuantizedLayer(
        scheme=kind,
        pruning=pruning,
        refit=False,
        w_bits=w_bits,
        exp1_bits=exp1_bits,
        exp2_bits=exp2_bits,
        codes=codes,
        wint=wint,
        wscale=np.ones(cout),
        mask=mask,
        bias=bias_int.astype(np.float64),
        level_desc=level_desc,
        extra={"stress": True, **extra},
        **meta_arrays,
    )
    top = (1 << a_bits) - 1
    meta = {
        "weights_source": f"synthetic(stress: every code, max activations, seed {seed})",
        "activations_source": (
            f"synthetic(stress: ~{ACT_MAX_FRACTION:.0%} max {top}, ~{ACT_ZERO_FRACTION:.0%} zero, "
            f"rest uniform, seed {seed})"
        ),
        "seed": seed,
        "stress": True,
        "a_frac": 0,
        "out_frac": 0,
        "layer_name": LAYER_NAME,
        "stress_requant": (
            "shift: 10..90% accumulator spread -> ~1.2x output range, +-1 per channel, channel 0 shift 0; "
            "bias: -median(acc[co]) + U(0.3, 0.7) * (2^a_bits-1) * 2^shift"
        ),
        "quant_extra": dict(layer.extra),
    }
    name = stress_set_name(tag, pruning, cin, cout, h, w, a_bits)
    return StressSet(name, layer, act, a_bits, bias_int, shift, residual, meta)
