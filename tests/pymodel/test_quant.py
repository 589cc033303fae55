from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pymodel import codes as codefmt
from pymodel.quant import (
    IOS_SYM_EXP_MAX,
    ios_grid,
    ios_magnitudes,
    ios_sym_grid,
    optimal_codebook,
    quantize_apot,
    quantize_int,
    quantize_ios,
    quantize_pot,
)

weights = st.tuples(st.integers(1, 5), st.integers(1, 5)).flatmap(
    lambda s: arrays(np.float64, (s[0], s[1], 3, 3),
                     elements=st.floats(-2, 2, allow_nan=False, allow_subnormal=False)))

QUANTIZERS = {
    "int8": (lambda w, m: quantize_int(w, m, 8), "int", 8, 0, 0),
    "int4": (lambda w, m: quantize_int(w, m, 4), "int", 4, 0, 0),
    "pot4": (lambda w, m: quantize_pot(w, m, 4), "pot", 4, 3, 0),
    "pot4-layer": (lambda w, m: quantize_pot(w, m, 4, per_channel=False), "pot", 4, 3, 0),
    "apot5": (lambda w, m: quantize_apot(w, m, 5), "apot", 5, 2, 1),
    "apot6": (lambda w, m: quantize_apot(w, m, 6), "apot", 6, 2, 2),
}


def _pot_sums(e1, e2):
    t1 = [0] + [s * (1 << e) for e in range((1 << e1) - 1) for s in (1, -1)]
    t2 = [0] + [s * (1 << e) for e in range((1 << e2) - 1) for s in (1, -1)]
    return {a + b for a in t1 for b in t2}


@pytest.mark.parametrize("name", QUANTIZERS)
@settings(max_examples=40, deadline=None)
@given(w=weights, seed=st.integers(0, 1000))
def test_quantizer_invariants(name, w, seed):
    fn, scheme, bits, e1, e2 = QUANTIZERS[name]
    mask = np.random.default_rng(seed).random(w.shape) < 0.6
    q = fn(w, mask)
    assert q.codes.dtype == np.uint8 and q.codes.max(initial=0) < (1 << bits)
    np.testing.assert_array_equal(codefmt.decode(q.codes, scheme, bits, e1, e2), q.wint)
    assert (q.wint[~mask] == 0).all()
    assert (q.wscale > 0).all() and q.wscale.shape == (w.shape[0],)
    if scheme == "int":
        assert np.abs(q.wint).max(initial=0) <= (1 << (bits - 1)) - 1
    if scheme == "pot":
        allowed = {0} | {s * (1 << e) for e in range(7) for s in (1, -1)}
        assert set(np.unique(q.wint).tolist()) <= allowed
    if scheme == "apot":
        assert set(np.unique(q.wint).tolist()) <= _pot_sums(e1, e2)
    if scheme in ("pot", "apot"):
        np.testing.assert_array_equal(np.log2(q.wscale), np.round(np.log2(q.wscale)))
    if name == "pot4-layer":
        assert len(set(q.wscale.tolist())) == 1
    # nearest level: no other level of the format is closer to a kept weight
    levels = np.array(sorted({int(v) for v in codefmt.decode(np.arange(1 << bits), scheme, bits, e1, e2)}))
    if scheme == "int":
        levels = levels[levels > -(1 << (bits - 1))]
    x = (w / q.wscale[:, None, None, None])[mask]
    dist_chosen = np.abs(x - q.wint[mask])
    dist_best = np.abs(x[:, None] - levels[None, :]).min(axis=1)
    assert (dist_chosen <= dist_best + 1e-9).all()


@settings(max_examples=15, deadline=None)
@given(w=weights, seed=st.integers(0, 1000))
def test_ios_invariants(w, seed):
    mask = np.random.default_rng(seed).random(w.shape) < 0.6
    q = quantize_ios(w, mask)
    assert q.level_desc.shape == (16,) and q.level_desc[0] == 0
    levels = codefmt.level_values(q.level_desc)
    assert len(set(levels.tolist())) == 16  # 16 distinct levels incl. zero
    for v in levels[1:]:
        mag = abs(int(v))
        exp = (mag & -mag).bit_length() - 1
        assert mag >> exp in (1, 3, 5, 7)
    np.testing.assert_array_equal(codefmt.decode(q.codes, "ios", 4, level_desc=q.level_desc), q.wint)
    assert (q.codes[~mask] == 0).all() and (q.wint[~mask] == 0).all()


def test_optimal_codebook_matches_brute_force():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0, 3, 300), rng.laplace(0, 8, 200)])
    mags = ios_magnitudes(24)
    cand = np.concatenate([-mags[::-1], [0], mags]).astype(float)
    best = optimal_codebook(values, cand, n_levels=5)

    def cost(levels):
        return float((np.abs(values[:, None] - np.array(levels)[None]).min(1) ** 2).sum())

    nonzero = [c for c in cand if c != 0]
    brute = min((sorted((0.0,) + s) for s in itertools.combinations(nonzero, 4)), key=cost)
    assert 0.0 in best
    assert cost(best) == pytest.approx(cost(brute), rel=1e-9)


def test_real_layer_quality_ordering(conv8):
    w = conv8.weight[:128]

    def wsqnr(q):
        wq = q.wint * q.wscale[:, None, None, None]
        return 10 * np.log10((w.astype(float) ** 2).sum() / ((w - wq) ** 2).sum())

    s8, s4, sios = wsqnr(quantize_int(w, None, 8)), wsqnr(quantize_int(w, None, 4)), wsqnr(quantize_ios(w))
    assert s8 > 30 and s8 > s4 + 15
    assert sios > s4  # 16 non-uniform levels beat 15 uniform ones on bell-shaped weights


@pytest.mark.parametrize("call, match", [
    (lambda w: quantize_int(w, None, 9), "int weights need 2..8 bits"),
    (lambda w: quantize_pot(w, None, 6), "pot codes"),
    (lambda w: quantize_apot(w, None, 4), "apot supports w_bits"),
    (lambda w: quantize_int(w[..., :2], None, 8), "3x3"),
    (lambda w: quantize_int(w, np.ones((1, 1, 3, 3), bool), 8), "mask shape"),
])
def test_bad_quantizer_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call(np.ones((2, 2, 3, 3)))


@given(weights, st.integers(0, 2**16))
@settings(max_examples=25, deadline=None)
def test_ios_sym_invariants(w, seed):
    """ios4s: a sign-symmetric codebook (descriptor 8+m = descriptor m with the sign bit, m < 8
    non-negative, index 0 zero), exponents within the bound, and every code decodes as
    (-1)^c[3] * M[c & 7]; the quantized weights are the grid's nearest levels."""
    mask = np.random.default_rng(seed).random(w.shape) < 0.8
    grid = ios_sym_grid(w, mask)
    q = grid.quantize(w, mask)
    desc = q.level_desc
    assert codefmt.is_sign_symmetric(desc)
    assert desc[0] == 0 and desc[8] == 0x80
    assert grid.extra["level_exp_max"] == int((desc & 15).max()) <= IOS_SYM_EXP_MAX
    mags = codefmt.level_values(desc)[:8]
    assert mags[0] == 0 and (np.diff(mags) > 0).all()
    every = np.arange(16, dtype=np.uint8)
    want = np.where(every >> 3, -1, 1) * mags[every & 7]
    assert np.array_equal(codefmt.decode(every, "ios", 4, level_desc=desc), want)
    assert np.array_equal(codefmt.decode(q.codes, "ios", 4, level_desc=desc), q.wint)
    assert (q.wint[~mask] == 0).all()


def test_ios_sym_stress_levels():
    """The ios4s stress codebook: symmetric, the extremes +-7 * 2^E at the bound, every mantissa."""
    from pymodel.stress import ios_sym_stress_levels

    for bound in (0, 2, 5):
        desc = ios_sym_stress_levels(bound)
        assert codefmt.is_sign_symmetric(desc) and int((desc & 15).max()) == bound
        values = codefmt.level_values(desc)
        assert values.max() == 7 << bound and values.min() == -(7 << bound)
        assert {int(m) for m in (desc[1:8] >> 4) & 7} == {1, 3, 5, 7}


def test_is_sign_symmetric_refuses():
    sym = np.array([0, 0x10, 0x30] + [0] * 5 + [0x80, 0x90, 0xB0] + [0x80] * 5, np.uint8)
    assert codefmt.is_sign_symmetric(sym)
    negative = sym.copy()
    negative[1] |= 0x80
    mirror = sym.copy()
    mirror[9] = 0xB0
    assert not codefmt.is_sign_symmetric(negative) and not codefmt.is_sign_symmetric(mirror)


def _check_symmetric_grid(q, bound):
    """The codebook is sign-symmetric with M[0] = 0 < M[1] < .. < M[7], exponents <= bound, and
    every code decodes as (-1)^(c >> 3) * M[c & 7]."""
    desc = q.level_desc
    assert codefmt.is_sign_symmetric(desc) and desc[0] == 0
    mags = codefmt.level_values(desc)[:8]
    assert mags[0] == 0 and (np.diff(mags) > 0).all()
    exps = desc[1:8] & 15
    assert exps.max() <= bound and codefmt.level_exp_max(desc) == exps.max() == q.grid.extra["level_exp_max"]
    assert q.grid.extra["ios_levels"] == codefmt.level_values(desc).tolist()
    c = np.arange(16)
    np.testing.assert_array_equal(codefmt.decode(c, "ios", 4, level_desc=desc),
                                  np.where(c >> 3, -1, 1) * mags[c & 7])
    np.testing.assert_array_equal(np.where(q.codes >> 3, -1, 1) * mags[q.codes & 7], q.wint)
    assert q.grid.zero_code == 0


@settings(max_examples=10, deadline=None)
@given(w=weights, seed=st.integers(0, 1000), bound=st.sampled_from([3, 4, 5, 7]))
def test_ios_sym_invariants_at_bounds(w, seed, bound):
    mask = np.random.default_rng(seed).random(w.shape) < 0.6
    q = quantize_ios(w, mask, symmetric=True, max_exp=bound)
    _check_symmetric_grid(q, bound)
    assert (q.codes[~mask] == 0).all() and (q.wint[~mask] == 0).all()
    x = (w / q.wscale[:, None, None, None])[mask]  # nearest level of the 15
    levels = np.unique(codefmt.level_values(q.level_desc))
    assert (np.abs(x - q.wint[mask]) <= np.abs(x[:, None] - levels[None, :]).min(axis=1) + 1e-9).all()


def test_ios_sym_grid_on_conv8(conv8):
    """Real weights: the default bound (5) and a tight one (2) hold; the symmetric codebook is
    optimal for |w| among 8-level subsets of the bounded candidates, so it loses little to ios4."""
    w = conv8.weight[:32]
    for bound in (5, 2):
        q = ios_sym_grid(w, max_exp=bound).quantize(w)
        _check_symmetric_grid(q, bound)
        assert q.grid.extra["ios_symmetric"] and q.grid.extra["ios_max_exp"] == bound

    def err(q):
        return float(((w - q.wint * q.wscale[:, None, None, None]) ** 2).sum())

    e_sym, e_ios = err(ios_sym_grid(w).quantize(w)), err(ios_grid(w).quantize(w))
    assert e_ios < e_sym < 1.5 * e_ios
    assert ios_magnitudes(64, 2).tolist() == [1, 2, 3, 4, 5, 6, 7, 10, 12, 14, 20, 28]
    with pytest.raises(ValueError, match="max_exp must be 0..15"):
        ios_sym_grid(w, max_exp=16)


def test_symmetric_codebook_matches_brute_force():
    """The DP on |w| with 8 levels incl. 0 is the least-squares sign-symmetric codebook."""
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.normal(0, 3, 200), rng.laplace(0, 4, 100)])
    mags = ios_magnitudes(12)  # 10 magnitudes: C(10, 7) = 120 codebooks
    best = optimal_codebook(np.abs(values), np.concatenate([[0], mags]).astype(float), n_levels=8)

    def cost(m):
        levels = np.concatenate([-np.array(m)[::-1], [0.0], m])
        return float((np.abs(values[:, None] - levels[None]).min(1) ** 2).sum())

    brute = min(itertools.combinations(mags.tolist(), 7), key=cost)
    assert best[0] == 0 and cost(best[1:]) == pytest.approx(cost(brute), rel=1e-9)
