from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pymodel import codes as codefmt
from pymodel.quant import (
    ios_magnitudes,
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
