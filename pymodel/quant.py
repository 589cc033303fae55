"""Weight quantizers: float OIHW weights (+ pruning mask) -> codes, integer weights, per-channel
scale, honouring the code formats of docs/engine.md through pymodel.codes.

Every quantizer first fixes a `QuantGrid` (the integer level set of the format, the code of
each level and a per-output-channel scale) and then rounds each kept weight to the nearest
level; pruned weights get a code that decodes to 0. The refit (GPTQ-style) path reuses the same
grids column by column.

* int  (INT-b, b=2..8): symmetric levels -(2^(b-1)-1)..2^(b-1)-1, float scale per channel
  chosen among clipping ratios 0.5..1 of max|w| by least squared error.
* pot  (PoT, b=1+E): 0 and +-2^e, e=0..2^E-2. The scale is a power of two (per channel, or one
  per layer), i.e. the top exponent INQ-style, chosen by least squared error (nearest level in
  the linear domain, which is what minimises the error).
* apot (two-term, b=5: E1=2,E2=1; b=6: E1=E2=2): every sum of two PoT terms; power-of-two scale.
* inq  (INQ, b=4, coded in the pot4 format): INQ's own level set {0, +-2^n2 .. +-2^n1} with
  n1 = floor(log2(4 max|w| / 3)) (one per layer, or per channel) and n2 = n1 + 1 - 2^(b-1)/2,
  i.e. 4 magnitudes for b=4 (pot4 has 7 and picks its top exponent by least squared error),
  rounded by INQ's rule: beta when (alpha+beta)/2 <= |w| < 3 beta/2 (ties away from zero).
* ios  (b=4): one 16-level codebook per layer of levels +-mant*2^exp (mant in 1,3,5,7) with
  level 0 = zero, chosen by an exact dynamic programme over the representable values, and a
  float scale per channel; alternated twice (codebook | scales).
* ios, sign-symmetric (`ios_sym_grid`, scheme ios4s): code = {sign, 3-bit magnitude index}, 8
  magnitudes M[0] = 0 < M[1] < .. < M[7], value (-1)^(c>>3) * M[c & 7]; the same programme on
  |w| with 8 levels, candidates bounded to exponents <= max_exp (the hardware bank word is
  A_BITS + 3 + LEVEL_EXP_MAX bits wide). Exported through the same 16 descriptors:
  desc[m] = encode_level(M[m]), desc[8 + m] = desc[m] | 0x80 (desc[8] = 0x80, a "negative zero").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pymodel import codes as codefmt

APOT_SPLITS = {5: (2, 1), 6: (2, 2)}
_CLIP_RATIOS = np.linspace(0.5, 1.0, 26)
_IOS_GAINS = tuple(2 ** k for k in range(3, 8))  # integer size of the largest codebook level
_IOS_FIT_SAMPLES = 1 << 18  # values the codebook DP sees (a fixed random subset of large layers)
# largest level exponent of an ios4s codebook (the plut-ios4s bank's LEVEL_EXP_MAX): conv8's
# refitted dense / KRP / IKR codebooks top out at 7 * 2^2 with a bound of 5 as well (docs/fidelity.md:
# the SQNR at bounds 2..7)
IOS_SYM_EXP_MAX = 2


@dataclass
class Quantized:
    codes: np.ndarray  # uint8 [Cout, Cin, 3, 3]
    wint: np.ndarray  # int32 [Cout, Cin, 3, 3]
    wscale: np.ndarray  # float64 [Cout]
    level_desc: np.ndarray | None  # uint8 [16], ios only
    grid: QuantGrid


@dataclass
class QuantGrid:
    """A code format's integer levels (sorted), the code of each, and per-channel scales."""

    scheme: str
    w_bits: int
    exp1_bits: int
    exp2_bits: int
    levels: np.ndarray  # int64 [L], sorted, contains 0
    level_codes: np.ndarray  # uint8 [L]
    wscale: np.ndarray  # float64 [Cout]
    level_desc: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    def nearest_index(self, x_scaled: np.ndarray) -> np.ndarray:
        """Index of the nearest level to each value already divided by its channel's scale."""
        mids = (self.levels[1:] + self.levels[:-1]) / 2.0
        return np.searchsorted(mids, x_scaled, side="left")

    def round_column(self, col: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
        """Float value of the nearest level of w[:, j] (one value per output channel)."""
        q = self.levels[self.nearest_index(col / self.wscale)] * self.wscale
        return q if keep is None else np.where(keep, q, 0.0)

    @property
    def zero_code(self) -> int:
        return int(self.level_codes[np.searchsorted(self.levels, 0)])

    def quantize(self, w: np.ndarray, mask: np.ndarray | None = None) -> Quantized:
        w = np.asarray(w, np.float64)
        idx = self.nearest_index(w / self.wscale[:, None, None, None])
        codes = self.level_codes[idx]
        wint = self.levels[idx]
        if mask is not None:
            codes = np.where(mask, codes, self.zero_code)
            wint = np.where(mask, wint, 0)
        codes = codes.astype(np.uint8)
        decoded = codefmt.decode(codes, self.scheme, self.w_bits, self.exp1_bits, self.exp2_bits,
                                 self.level_desc)
        assert np.array_equal(decoded, wint), "level table disagrees with pymodel.codes.decode"
        return Quantized(codes=codes, wint=decoded, wscale=self.wscale.copy(),
                         level_desc=None if self.level_desc is None else self.level_desc.copy(), grid=self)


def level_table(scheme: str, w_bits: int, exp1_bits: int = 0, exp2_bits: int = 0,
                level_desc: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(sorted unique integer levels, lowest code decoding to each) of a code format."""
    fmt = codefmt.code_format(scheme, w_bits, exp1_bits, exp2_bits)
    all_codes = fmt.quantizer_codes().astype(np.uint8)
    values = fmt.decode(all_codes, level_desc).astype(np.int64)
    levels, first = np.unique(values, return_index=True)  # codes ascending -> first = lowest code
    return levels, all_codes[first]


def _prepare(w: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    w = np.asarray(w)
    if w.ndim != 4 or w.shape[2:] != (3, 3):
        raise ValueError(f"expected OIHW 3x3 weights [Cout, Cin, 3, 3], got shape {w.shape}")
    if not np.isfinite(w).all():
        raise ValueError("weights contain NaN or Inf")
    m = np.ones(w.shape, bool) if mask is None else np.asarray(mask, bool)
    if m.shape != w.shape:
        raise ValueError(f"mask shape {m.shape} does not match weights {w.shape}")
    return np.where(m, w, 0.0).astype(np.float64).reshape(w.shape[0], -1), m.reshape(w.shape[0], -1)


def _sq_error(wf: np.ndarray, levels: np.ndarray, scale: np.ndarray, col_weight: np.ndarray | None):
    mids = (levels[1:] + levels[:-1]) / 2.0
    s = scale[:, None]
    err = (levels[np.searchsorted(mids, wf / s)] * s - wf) ** 2
    return (err if col_weight is None else err * col_weight).sum(axis=1)


def _best_scale(wf, levels, candidates: np.ndarray, col_weight=None, per_channel=True) -> np.ndarray:
    """Per channel (or one for the layer) the candidate scale [C, Cout] of least squared error."""
    errs = np.stack([_sq_error(wf, levels, c, col_weight) for c in candidates])  # [C, Cout]
    if per_channel:
        return candidates[np.argmin(errs, axis=0), np.arange(wf.shape[0])]
    return candidates[np.argmin(errs.sum(axis=1))]


def _max_abs(wf: np.ndarray) -> np.ndarray:
    m = np.abs(wf).max(axis=1)
    return np.where(m > 0, m, 1.0)  # all-pruned / all-zero channel: any scale works


def _pow2_candidates(wf: np.ndarray, top_level: int) -> np.ndarray:
    k0 = np.ceil(np.log2(_max_abs(wf) / top_level))  # the smallest scale at which max|w| fits
    return np.stack([2.0 ** (k0 + d) for d in (-2, -1, 0, 1)])


def _col_weight(col_weight, n_cols):
    if col_weight is None:
        return None
    cw = np.asarray(col_weight, np.float64).ravel()
    if cw.shape != (n_cols,):
        raise ValueError(f"col_weight must have {n_cols} entries, got {cw.shape}")
    return cw[None, :]


def int_grid(w, mask=None, bits: int = 8, col_weight=None) -> QuantGrid:
    codefmt.check_format("int", bits)
    wf, _ = _prepare(w, mask)
    levels, lcodes = level_table("int", bits)
    top = int(levels.max())
    cands = _CLIP_RATIOS[:, None] * (_max_abs(wf) / top)[None, :]
    scale = _best_scale(wf, levels, cands, _col_weight(col_weight, wf.shape[1]))
    return QuantGrid("int", bits, 0, 0, levels, lcodes, scale.astype(np.float64))


def pot_grid(w, mask=None, bits: int = 4, per_channel: bool = True, col_weight=None) -> QuantGrid:
    exp_bits = bits - 1
    codefmt.check_format("pot", bits, exp_bits)
    wf, _ = _prepare(w, mask)
    levels, lcodes = level_table("pot", bits, exp_bits)
    cands = _pow2_candidates(wf, int(levels.max()))
    if not per_channel:  # one top exponent for the layer, from the layer's max
        cands = np.broadcast_to(cands.max(axis=1, keepdims=True), cands.shape)
    scale = _best_scale(wf, levels, cands, _col_weight(col_weight, wf.shape[1]), per_channel)
    scale = np.broadcast_to(scale, (wf.shape[0],)).astype(np.float64)
    return QuantGrid("pot", bits, exp_bits, 0, levels, lcodes, scale.copy(),
                     extra={"per_channel": per_channel})


class InqGrid(QuantGrid):
    """INQ's rounding: |w| goes to the level beta with (alpha+beta)/2 <= |w| < 3 beta/2 (alpha the
    next lower level, 0 below the smallest), i.e. nearest level with ties away from zero; values
    beyond the top level (only reachable through error feedback) saturate to it."""

    def nearest_index(self, x_scaled: np.ndarray) -> np.ndarray:
        x = np.asarray(x_scaled, np.float64)
        zero = int(np.searchsorted(self.levels, 0))
        pos = self.levels[zero:].astype(np.float64)  # 0, 2^n2 .. 2^n1 (integer units)
        k = np.searchsorted((pos[1:] + pos[:-1]) / 2.0, np.abs(x), side="right")
        return np.where(x < 0, zero - k, zero + k)


def inq_n1(max_abs: np.ndarray) -> np.ndarray:
    """INQ's top exponent n1 = floor(log2(4 s / 3)), s = max|w| (of the layer or a channel)."""
    return np.floor(np.log2(4.0 * np.asarray(max_abs, np.float64) / 3.0))


def inq_grid(w, mask=None, bits: int = 4, per_channel: bool = False, col_weight=None) -> QuantGrid:
    """INQ levels in the pot `bits` code format: the integer levels +-2^(t-m+1) .. +-2^t (t the
    format's top exponent, m = 2^(bits-1)/2 INQ magnitudes) times the scale 2^(n1 - t).
    `col_weight` is accepted for the refit path's interface and unused: INQ fixes n1 by rule."""
    exp_bits = bits - 1
    codefmt.check_format("pot", bits, exp_bits)
    wf, _ = _prepare(w, mask)
    all_levels, all_codes = level_table("pot", bits, exp_bits)
    top_exp = int(np.log2(all_levels.max()))
    n_mags = (1 << (bits - 1)) // 2
    lowest = 1 << (top_exp - n_mags + 1)
    keep = (all_levels == 0) | (np.abs(all_levels) >= lowest)
    levels, lcodes = all_levels[keep], all_codes[keep]
    maxabs = _max_abs(wf) if per_channel else np.full(wf.shape[0], _max_abs(wf.reshape(1, -1))[0])
    n1 = inq_n1(maxabs)
    scale = 2.0 ** (n1 - top_exp)
    return InqGrid("pot", bits, exp_bits, 0, levels, lcodes, scale.astype(np.float64),
                   extra={"per_channel": per_channel, "inq_n1": [int(v) for v in np.unique(n1)],
                          "inq_magnitudes": n_mags})


def apot_grid(w, mask=None, bits: int = 6, col_weight=None) -> QuantGrid:
    if bits not in APOT_SPLITS:
        raise ValueError(f"apot supports w_bits {sorted(APOT_SPLITS)} (E1,E2 = {APOT_SPLITS}), got {bits}")
    e1, e2 = APOT_SPLITS[bits]
    wf, _ = _prepare(w, mask)
    levels, lcodes = level_table("apot", bits, e1, e2)
    cands = _pow2_candidates(wf, int(levels.max()))
    scale = _best_scale(wf, levels, cands, _col_weight(col_weight, wf.shape[1]))
    return QuantGrid("apot", bits, e1, e2, levels, lcodes, scale.astype(np.float64))


def ios_magnitudes(max_value: int, max_exp: int | None = None) -> np.ndarray:
    """Every mant*2^exp (mant in 1,3,5,7, exp 0..15, and exp <= max_exp if given) up to
    max_value, sorted."""
    top = 15 if max_exp is None else min(int(max_exp), 15)
    mags = {m << e for m in (1, 3, 5, 7) for e in range(top + 1) if (m << e) <= max_value}
    return np.array(sorted(mags), np.int64)


def level_exponent(value: int) -> int:
    """The exponent of a level mant*2^exp (its trailing zeros; 0 for the zero level)."""
    mag = abs(int(value))
    return (mag & -mag).bit_length() - 1 if mag else 0


def optimal_codebook(values: np.ndarray, candidates: np.ndarray, n_levels: int = codefmt.N_LEVELS,
                     weights: np.ndarray | None = None) -> np.ndarray:
    """Exact least-squares choice of n_levels of the sorted candidates (0 always included):
    a dynamic programme over consecutive chosen levels, each value going to its nearest level."""
    cand = np.asarray(candidates, np.float64)
    n = len(cand)
    if n < n_levels:
        raise ValueError(f"only {n} candidate levels for a {n_levels}-level codebook")
    order = np.argsort(values)
    v = np.asarray(values, np.float64)[order]
    wt = np.ones_like(v) if weights is None else np.asarray(weights, np.float64)[order]
    s0 = np.concatenate([[0.0], np.cumsum(wt)])
    s1 = np.concatenate([[0.0], np.cumsum(wt * v)])
    s2 = np.concatenate([[0.0], np.cumsum(wt * v * v)])

    def seg(lo, hi, c):  # cost of values v[lo:hi] all assigned to level c
        return (s2[hi] - s2[lo]) - 2 * c * (s1[hi] - s1[lo]) + c * c * (s0[hi] - s0[lo])

    pos = np.searchsorted(v, cand)  # first value >= each candidate
    zero = int(np.searchsorted(cand, 0.0))
    if zero >= n or cand[zero] != 0:
        raise ValueError("candidate levels must contain 0")
    inf = np.inf
    left = np.array([seg(0, pos[j], cand[j]) if j <= zero else inf for j in range(n)])
    right = np.array([seg(pos[j], len(v), cand[j]) if j >= zero else inf for j in range(n)])
    ii, jj = np.triu_indices(n, 1)
    mid = np.searchsorted(v, (cand[ii] + cand[jj]) / 2.0)
    pair = np.full((n, n), inf)
    pair[ii, jj] = seg(pos[ii], mid, cand[ii]) + seg(mid, pos[jj], cand[jj])
    skip = (ii < zero) & (jj > zero)
    pair[ii[skip], jj[skip]] = inf  # the zero level may not be skipped
    cost = left.copy()
    back = np.zeros((n_levels, n), np.int64)
    for t in range(1, n_levels):
        total = cost[:, None] + pair  # [i, j]
        back[t] = np.argmin(total, axis=0)
        cost = total[back[t], np.arange(n)]
    last = int(np.argmin(cost + right))
    chosen = [last]
    for t in range(n_levels - 1, 0, -1):
        chosen.append(int(back[t][chosen[-1]]))
    return cand[np.array(chosen[::-1])]


def _ios_from_levels(levels_sorted: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Descriptors with level 0 at index 0, the others ascending; (desc, table levels, table codes)."""
    nonzero = [int(x) for x in levels_sorted if x != 0]
    desc = np.array([0] + [codefmt.encode_level(x) for x in nonzero], np.uint8)
    levels, lcodes = level_table("ios", 4, level_desc=desc)
    return desc, levels, lcodes


def _ios_sym_from_magnitudes(mags: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sign-symmetric descriptors of the 8 magnitudes M[0] = 0 < M[1] < .. < M[7]: desc[m] =
    encode_level(M[m]), desc[8 + m] = desc[m] | 0x80; (desc, table levels, table codes). The
    table maps 0 to code 0 (its lowest code; code 8 = 0x80 decodes to 0 as well)."""
    half = np.array([codefmt.encode_level(int(x)) for x in mags], np.uint8)
    desc = np.concatenate([half, half | 0x80]).astype(np.uint8)
    levels, lcodes = level_table("ios", 4, level_desc=desc)
    return desc, levels, lcodes


def ios_grid(w, mask=None, bits: int = 4, col_weight=None, symmetric: bool = False,
             max_exp: int | None = None) -> QuantGrid:
    """The IOS codebook grid. `symmetric`: the sign-symmetric codebook (ios4s: 7 nonzero
    magnitudes, each with both signs, from the same least-squares programme run on |w| with 8
    levels including 0); `max_exp`: only levels mant*2^exp with exp <= max_exp are candidates.
    The extra records ios_gain, ios_levels (the 16 decoded levels, code order) and
    level_exp_max (the largest exponent of the chosen levels)."""
    codefmt.check_format("ios", bits)
    if max_exp is not None and not 0 <= max_exp <= 15:
        raise ValueError(f"max_exp must be 0..15 (the descriptor's 4-bit exponent), got {max_exp!r}")
    wf, m = _prepare(w, mask)
    cw = _col_weight(col_weight, wf.shape[1])
    maxabs = _max_abs(wf)
    n_kept = int(m.sum())
    subset = np.sort(np.random.default_rng(0).permutation(n_kept)[:_IOS_FIT_SAMPLES])
    n_mags = codefmt.N_LEVELS // 2  # symmetric: 8 magnitudes, 0 included
    best = None
    for gain in _IOS_GAINS:
        mags = ios_magnitudes(gain, max_exp)
        if symmetric:
            cand = np.concatenate([[0], mags]).astype(np.float64)
            if len(cand) < n_mags:
                continue
        else:
            cand = np.concatenate([-mags[::-1], [0], mags]).astype(np.float64)
            if len(cand) < codefmt.N_LEVELS:
                continue
        scale = maxabs / gain
        for _ in range(2):  # alternate: codebook for the scales, then scales for the codebook
            normalised = (wf / scale[:, None])[m][subset]
            wts = None if cw is None else np.broadcast_to(cw, wf.shape)[m][subset]
            if symmetric:
                chosen = np.round(optimal_codebook(np.abs(normalised), cand, n_mags, wts)).astype(np.int64)
                levels = np.concatenate([-chosen[:0:-1], chosen])
            else:
                levels = np.round(optimal_codebook(normalised, cand, weights=wts)).astype(np.int64)
            top = np.abs(levels).max()
            scale = _best_scale(wf, levels, np.linspace(0.6, 1.2, 13)[:, None] * (maxabs / top)[None, :], cw)
        err = float(_sq_error(wf, levels, scale, cw).sum())
        if best is None or err < best[0] * 0.995:  # a bigger gain must earn its wider LUT
            best = (err, gain, levels, scale)
    if best is None:
        raise ValueError(f"max_exp={max_exp!r} leaves too few ios levels for a "
                         f"{'sign-symmetric ' if symmetric else ''}codebook")
    _, gain, levels, scale = best
    if symmetric:
        # a common factor 2^k of the levels moves into the scales (the same float weights): the
        # smallest exponents, i.e. the narrowest product bank, for the codebook
        k = min(level_exponent(x) for x in levels if x != 0)
        levels, scale = levels >> k, scale * 2.0 ** k
        desc, table, lcodes = _ios_sym_from_magnitudes(levels[levels >= 0])
    else:
        desc, table, lcodes = _ios_from_levels(levels)
    values = codefmt.level_values(desc)
    extra = {"ios_gain": gain, "ios_levels": [int(x) for x in values],
             "level_exp_max": codefmt.level_exp_max(desc), "ios_symmetric": bool(symmetric)}
    if max_exp is not None:
        extra["ios_max_exp"] = int(max_exp)
    return QuantGrid("ios", 4, 0, 0, table, lcodes, scale.astype(np.float64), level_desc=desc, extra=extra)


def ios_sym_grid(w, mask=None, bits: int = 4, col_weight=None, max_exp: int | None = IOS_SYM_EXP_MAX
                 ) -> QuantGrid:
    """The sign-symmetric IOS grid (scheme ios4s): ios_grid(symmetric=True, max_exp=max_exp)."""
    return ios_grid(w, mask, bits, col_weight, symmetric=True, max_exp=max_exp)


def quantize_int(w, mask=None, bits: int = 8) -> Quantized:
    return int_grid(w, mask, bits).quantize(w, mask)


def quantize_pot(w, mask=None, bits: int = 4, per_channel: bool = True) -> Quantized:
    return pot_grid(w, mask, bits, per_channel).quantize(w, mask)


def quantize_inq(w, mask=None, bits: int = 4, per_channel: bool = False) -> Quantized:
    return inq_grid(w, mask, bits, per_channel).quantize(w, mask)


def quantize_apot(w, mask=None, bits: int = 6) -> Quantized:
    return apot_grid(w, mask, bits).quantize(w, mask)


def quantize_ios(w, mask=None, symmetric: bool = False, max_exp: int | None = None) -> Quantized:
    return ios_grid(w, mask, symmetric=symmetric, max_exp=max_exp).quantize(w, mask)


GRID_MAKERS = {"int": int_grid, "pot": pot_grid, "apot": apot_grid, "ios": ios_grid}  # by code kind
