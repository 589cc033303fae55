"""INQ levels, retraining by distillation, entropy coding, executed op counts, export names."""

from __future__ import annotations

import numpy as np
import pytest

from pymodel import codes, entropy, metrics, quant, retrain
from pymodel.activations import ActivationSet
from pymodel.schemes import EXPORT_SCHEMES, SCHEMES, make_layer
from pymodel.types import ConvWeights


def _small_problem(seed=0, cin=8, cout=6):
    rng = np.random.default_rng(seed)
    xf = np.maximum(rng.normal(size=(4, cin, 6, 6)), 0).astype(np.float32)
    xi = np.clip(np.floor(xf * 16 + 0.5), 0, 255).astype(np.uint8)
    acts = ActivationSet(8, 4, xf[:3], xf[3:], xi[:3], xi[3:], "random")
    conv = ConvWeights((rng.normal(size=(cout, cin, 3, 3)) * 0.1).astype(np.float32),
                       (rng.normal(size=cout) * 0.01).astype(np.float32), "random")
    return conv, acts


def test_inq_levels_and_rounding():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(4, 8, 3, 3)) * 0.05
    g = quant.inq_grid(w, per_channel=False)
    n1 = np.floor(np.log2(4 * np.abs(w).max() / 3))
    values = np.unique(np.abs(g.levels * g.wscale[0]))
    np.testing.assert_allclose(values, [0] + [2.0 ** (n1 - k) for k in (3, 2, 1, 0)])  # 4 magnitudes
    q = g.quantize(w)
    np.testing.assert_array_equal(codes.decode(q.codes, "pot", 4, 3), q.wint)  # pot4 code format
    # INQ's rule: beta when (alpha+beta)/2 <= |w| < 3 beta/2 (ties away from zero), 0 below 2^n2 / 2
    beta = 2.0 ** (n1 - 2)
    alpha = 2.0 ** (n1 - 3)
    probe = np.array([(alpha + beta) / 2, np.nextafter((alpha + beta) / 2, 0), -(alpha + beta) / 2,
                      alpha / 2, np.nextafter(alpha / 2, 0)])
    got = g.levels[g.nearest_index(probe / g.wscale[0])] * g.wscale[0]
    np.testing.assert_allclose(got, [beta, alpha, -beta, alpha, 0.0])
    per_ch = quant.inq_grid(w, per_channel=True)
    n1_ch = np.floor(np.log2(4 * np.abs(w).reshape(4, -1).max(1) / 3))
    np.testing.assert_allclose(per_ch.wscale, 2.0 ** (n1_ch - 6))


def test_new_schemes_stay_out_of_the_default_export():
    assert set(EXPORT_SCHEMES) < set(SCHEMES) and "inq4" in SCHEMES and "inq4" not in EXPORT_SCHEMES


@pytest.mark.parametrize("method", retrain.METHODS)
def test_retraining_smoke(method, tmp_path, monkeypatch):
    """A few steps on a tiny layer: the calibration loss never ends above the refit's, the codes
    stay on the refit's grid and mask, and the cached result is the same layer."""
    monkeypatch.setenv("PYMODEL_CACHE", str(tmp_path))
    conv, acts = _small_problem()
    scheme = "ios4" if method == "iosdist" else "pot4"
    base = make_layer(conv, acts, scheme, "krp", refit=True)
    layer = make_layer(conv, acts, scheme, "krp", refit=True, retrain=method, retrain_steps=6)
    assert not layer.wint[~layer.mask].any()
    np.testing.assert_array_equal(codes.decode(layer.codes, layer.scheme, layer.w_bits, layer.exp1_bits,
                                               layer.exp2_bits, layer.level_desc), layer.wint)
    np.testing.assert_array_equal(layer.wscale, base.wscale)

    def calib_mse(lay):
        ref = metrics.conv_float(acts.calib_float, conv.weight, conv.bias)
        got = metrics.conv_float(acts.calib_int * np.float32(acts.step), lay.float_weight(), lay.bias)
        return float(((ref - got) ** 2).mean())

    assert calib_mse(layer) <= calib_mse(base) * (1 + 1e-6)
    again = make_layer(conv, acts, scheme, "krp", refit=True, retrain=method, retrain_steps=6)
    assert again.extra["retrain_cached"] and np.array_equal(again.codes, layer.codes)


def test_retraining_needs_refit_and_a_known_method():
    conv, acts = _small_problem()
    with pytest.raises(ValueError, match="refit"):
        make_layer(conv, acts, "pot4", "dense", refit=False, retrain="qat")
    with pytest.raises(ValueError, match="retraining method"):
        make_layer(conv, acts, "pot4", "dense", refit=True, retrain="sgd")


@pytest.mark.parametrize("pruning", ["dense", "krp", "ikr", "unstructured"])
def test_entropy_coding_round_trips_and_is_counted(pruning):
    conv, acts = _small_problem(cin=16, cout=8)
    layer = make_layer(conv, acts, "pot4", pruning, n_patterns=4)
    for sym, alphabet in entropy.streams(layer).values():
        words, probs = entropy.rans_encode(sym, alphabet)
        np.testing.assert_array_equal(entropy.rans_decode(words, probs, len(sym)), sym)
        np.testing.assert_array_equal(entropy.huffman_roundtrip(sym, alphabet), sym)
        bound = entropy.entropy_bits(sym, alphabet)
        assert bound <= 32 * len(words) + 64 and entropy.huffman_bits(sym, alphabet)[0] >= bound - 1e-6
    st = entropy.entropy_storage(layer)
    fp32 = (layer.wint.size + layer.wint.shape[0]) * 32
    assert st["rans_ratio_vs_fp32"] == pytest.approx(fp32 / st["rans_total_bits"])
    assert st["fixed_ratio_vs_fp32"] == pytest.approx(metrics.storage_bits(layer)["ratio_vs_fp32"])


def test_executed_op_counts_count_every_stored_slot():
    conv, acts = _small_problem(cin=16, cout=8)
    pixels = 28 * 28
    for pruning, per_kernel in (("dense", 9), ("krp", 3), ("ikr", 4)):
        layer = make_layer(conv, acts, "pot4", pruning, n_patterns=4)
        ops = metrics.op_counts(layer)
        assert ops["executed_products"] == pixels * 8 * 16 * per_kernel
        assert ops["executed_products"] >= ops["shifts"]  # idealised counts skip zero weights


def test_export_names_of_new_schemes_and_retrained_layers():
    from pymodel import export

    conv, acts = _small_problem()
    assert export.set_name_of(make_layer(conv, acts, "pot4", "krp"), 8, None) is None  # unchanged names
    inq = make_layer(conv, acts, "inq4", "krp", refit=True)
    assert export.set_name_of(inq, 8, None) == "inq4-krp"
    assert export.set_name_of(make_layer(conv, acts, "inq4", "krp"), 4, None) == "inq4-krp-norefit-a4"
    object.__setattr__(inq, "extra", {**inq.extra, "retrain": "qat"})
    assert export.set_name_of(inq, 8, None) == "inq4-krp-qat"


def test_order1_coding_round_trips_and_is_chosen_only_when_smaller():
    """A stream whose symbol repeats its predecessor: order 1 beats order 0 by far and decodes back;
    on the small real-looking layer the chosen order is the one with the fewer counted bits."""
    rng = np.random.default_rng(3)
    sym = np.repeat(rng.integers(0, 16, 400), 8).astype(np.int32)
    words, table = entropy.rans_encode_context(sym, 16)
    np.testing.assert_array_equal(entropy.rans_decode_context(words, table, len(sym)), sym)
    assert 32 * len(words) < entropy.entropy_bits(sym, 16) / 2
    conv, acts = _small_problem(cin=16, cout=8)
    layer = make_layer(conv, acts, "pot4", "dense")
    sym, alphabet = entropy.streams(layer)["codes"]
    words, table = entropy.rans_encode_context(sym, alphabet)
    np.testing.assert_array_equal(entropy.rans_decode_context(words, table, len(sym)), sym)
    st = entropy.entropy_storage(layer)["streams"]["codes"]
    order0 = 32 * len(entropy.rans_encode(sym, alphabet)[0]) + entropy.MODEL_PRECISION * alphabet
    order1 = 32 * len(words) + entropy.MODEL_PRECISION * alphabet**2
    assert st["rans_bits"] == min(order0, order1) and st["rans_order"] == int(order1 < order0)
