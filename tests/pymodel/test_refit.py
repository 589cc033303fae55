from __future__ import annotations

import numpy as np
import pytest

from pymodel.activations import ActivationSet
from pymodel.metrics import fidelity
from pymodel.refit import refit_weights
from pymodel.schemes import PRUNINGS, SCHEMES, make_layer
from pymodel.types import ConvWeights


def test_refit_solves_the_masked_least_squares_problem():
    """Against numpy lstsq with the same ridge on a tiny layer with random activations."""
    rng = np.random.default_rng(0)
    cin, cout = 3, 4
    xf = np.maximum(rng.normal(size=(3, cin, 6, 6)), 0).astype(np.float32)
    xi = np.clip(np.floor(xf * 16 + 0.5), 0, 255).astype(np.uint8)
    acts = ActivationSet(8, 4, xf, xf[:1], xi, xi[:1], "random")
    conv = ConvWeights(rng.normal(size=(cout, cin, 3, 3)).astype(np.float32),
                       rng.normal(size=cout).astype(np.float32), "random")
    mask = rng.random(conv.weight.shape) < 0.5
    ridge = 1e-3
    w_fit, b_fit = refit_weights(conv, acts, mask, ridge)

    from pymodel.refit import im2col
    x_f, x_q = im2col(xf).numpy(), im2col(xi.astype(np.float32) / 16).numpy()
    lam = ridge * np.mean(np.diag(x_q.T @ x_q)[:-1])
    for co in range(cout):
        keep = np.concatenate([mask[co].ravel(), [True]])
        y = x_f @ np.concatenate([conv.weight[co].ravel(), [conv.bias[co]]])
        a = x_q[:, keep]
        reg = np.full(keep.sum(), np.sqrt(lam))
        reg[-1] = 0  # the bias is not regularised
        a_aug = np.vstack([a, np.diag(reg)])
        y_aug = np.concatenate([y, np.zeros(keep.sum())])
        theta = np.linalg.lstsq(a_aug, y_aug, rcond=None)[0]
        np.testing.assert_allclose(w_fit[co].ravel()[mask[co].ravel()], theta[:-1], rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(b_fit[co], theta[-1], rtol=1e-6, atol=1e-8)
        assert (w_fit[co][~mask[co]] == 0).all()


def _sub(conv8, n=32):
    return ConvWeights(conv8.weight[:n].copy(), conv8.bias[:n].copy(), conv8.source)


@pytest.mark.parametrize("scheme, pruning", [
    ("pot4", "krp"),
    pytest.param("int4", "ikr", marks=pytest.mark.slow),
    pytest.param("ios4", "unstructured", marks=pytest.mark.slow),
])
def test_refit_beats_rounding_on_heldout(conv8, small_acts, scheme, pruning):
    sub = _sub(conv8)
    plain = make_layer(sub, small_acts, scheme, pruning)
    fitted = make_layer(sub, small_acts, scheme, pruning, refit=True)
    assert fitted.refit and not plain.refit
    np.testing.assert_array_equal(fitted.mask, plain.mask)
    assert (fitted.wint[~fitted.mask] == 0).all()
    gain = fidelity(fitted, sub, small_acts)["sqnr_db"] - fidelity(plain, sub, small_acts)["sqnr_db"]
    assert gain > 3.0, gain


def test_make_layer_rejects_unknown_names(conv8, small_acts):
    with pytest.raises(ValueError, match="int8, int4, pot4, apot5, apot6, ios4, ios4s, inq4, inq4c, pot4e"):
        make_layer(conv8, small_acts, "int3", "dense")
    with pytest.raises(ValueError, match="dense, unstructured, krp, ikr"):
        make_layer(conv8, small_acts, "int8", "random")


@pytest.mark.slow
@pytest.mark.parametrize("scheme, pruning, refit, floor_db", [
    ("int8", "dense", False, 40.0), ("int8", "dense", True, 41.0), ("int4", "dense", False, 16.0),
    ("pot4", "dense", False, 21.0), ("int8", "krp", True, 12.0), ("int8", "ikr", True, 17.0),
])
def test_whole_layer_heldout_targets(conv8, acts, scheme, pruning, refit, floor_db):
    layer = make_layer(conv8, acts, scheme, pruning, refit=refit)
    assert fidelity(layer, conv8, acts)["sqnr_db"] > floor_db


def test_registry():
    assert set(SCHEMES) == {"int8", "int4", "pot4", "apot5", "apot6", "ios4", "ios4s", "inq4", "inq4c",
                            "pot4e"}
    assert {n for n, s in SCHEMES.items() if s.symmetric} == {"ios4s"}
    assert PRUNINGS == ("dense", "unstructured", "krp", "ikr")


def _tiny_problem(seed=0, cin=3, cout=6):
    rng = np.random.default_rng(seed)
    xf = np.maximum(rng.normal(size=(4, cin, 6, 6)), 0).astype(np.float32)
    xi = np.clip(np.floor(xf * 16 + 0.5), 0, 255).astype(np.uint8)
    acts = ActivationSet(8, 4, xf, xf[:1], xi, xi[:1], "random")
    conv = ConvWeights(rng.normal(size=(cout, cin, 3, 3)).astype(np.float32),
                       rng.normal(size=cout).astype(np.float32), "random")
    return acts, conv


def test_gptq_order_is_only_a_permutation():
    """With an identity Hessian GPTQ has no error to feed back, so any column order gives plain
    rounding; the act order must undo its permutation exactly."""
    import torch

    from pymodel.quant import pot_grid
    from pymodel.refit import gptq_quantize

    _, conv = _tiny_problem()
    n = conv.weight[0].size + 1
    a = torch.eye(n, dtype=torch.float64)
    a.diagonal()[:-1] = torch.linspace(1.0, 2.0, n - 1)  # distinct energies: act order != natural
    mask = np.ones(conv.weight.shape, bool)
    grid = pot_grid(conv.weight, mask)
    rounded = grid.quantize(conv.weight, mask)
    for order in ("act", "natural"):
        q, _ = gptq_quantize(conv.weight.astype(np.float64), conv.bias.astype(np.float64), mask, grid, (a,),
                             damp=0.0, order=order)
        np.testing.assert_array_equal(q.codes, rounded.codes)
    with pytest.raises(ValueError, match="act, natural"):
        gptq_quantize(conv.weight, conv.bias, mask, grid, (a,), order="random")


@pytest.mark.parametrize("scheme", ["pot4", "int4"])
def test_scale_search_never_loses_on_calibration(scheme):
    """The search keeps, per channel, the best of candidates that include the grid's own scale, so
    its calibration loss is at most plain GPTQ's, channel by channel; pot scales stay powers of 2."""
    import torch

    from pymodel.refit import calibration_loss, gptq_quantize, gptq_scale_search, gram_matrices

    acts, conv = _tiny_problem(1)
    grams = gram_matrices(acts)
    mask = np.random.default_rng(2).random(conv.weight.shape) < 0.6
    w, b = conv.weight.astype(np.float64) * mask, conv.bias.astype(np.float64)
    grid = SCHEMES[scheme].grid_maker()(w, mask, col_weight=grams[0].diagonal()[:-1].numpy())
    plain, _ = gptq_quantize(w, b, mask, grid, grams)
    searched = gptq_scale_search(conv, w, b, mask, grid, grams)

    def loss(q):
        wq = torch.from_numpy(q.wint.reshape(len(b), -1) * q.wscale[:, None])
        return calibration_loss(conv, grams, wq)[0]

    assert (loss(searched) <= loss(plain) + 1e-9 * loss(plain).abs()).all()
    assert (searched.wint[~mask] == 0).all()
    if scheme == "pot4":
        assert np.array_equal(np.log2(searched.wscale), np.round(np.log2(searched.wscale)))


def test_entropy_constrained_gptq_reaches_its_storage_target(monkeypatch):
    """pot4e: the smallest rate weight that reaches the target; lam = 0 rounds like the plain
    search; the codes stay pot4 codes on the layer's mask."""
    import dataclasses

    from pymodel import entropy, refit, schemes
    from pymodel.codes import decode
    from pymodel.refit import entropy_constrained, gptq_scale_search, gram_matrices

    monkeypatch.setattr(refit, "RATE_ITERATIONS", 1)  # the search logic, not its precision
    monkeypatch.setattr(refit, "RATE_TOLERANCE", 1.0)

    acts, conv = _tiny_problem(4, cin=16, cout=8)
    plain = make_layer(conv, acts, "pot4", "krp", refit=True)
    base = entropy.entropy_storage(plain)["rans_ratio_vs_fp32"]
    monkeypatch.setitem(schemes.SCHEMES, "pot4e",
                        dataclasses.replace(SCHEMES["pot4e"], storage_target=round(base * 1.1, 3)))
    layer = make_layer(conv, acts, "pot4e", "krp", refit=True)
    assert entropy.entropy_storage(layer)["rans_ratio_vs_fp32"] >= round(base * 1.1, 3)
    assert layer.extra["rate_lambda"] > 0 and layer.extra["storage_target_reached"] and layer.scheme == "pot"
    np.testing.assert_array_equal(layer.mask, plain.mask)
    assert (layer.wint[~layer.mask] == 0).all()
    np.testing.assert_array_equal(decode(layer.codes, "pot", 4, 3), layer.wint)

    grams = gram_matrices(acts)
    mask = plain.mask
    w, b = conv.weight.astype(np.float64) * mask, conv.bias.astype(np.float64)
    grid = SCHEMES["pot4"].grid_maker()(w, mask, col_weight=grams[0].diagonal()[:-1].numpy())
    start = gptq_scale_search(conv, w, b, mask, grid, grams)
    same = entropy_constrained(conv, w, b, mask, grid, grams, 0.0, start)
    np.testing.assert_array_equal(same.codes, start.codes)
    from pymodel import export

    assert export.set_name_of(layer, 8, None) == "pot4e-krp"  # exported beside pot4, same format

    monkeypatch.setitem(schemes.SCHEMES, "pot4e", dataclasses.replace(SCHEMES["pot4e"], storage_target=1e4))
    far = make_layer(conv, acts, "pot4e", "krp", refit=True)  # out of reach: the last try, flagged
    assert not far.extra["storage_target_reached"] and far.extra["rate_lambda"] >= refit.RATE_LAMBDA_MAX


@pytest.mark.parametrize("pruning", ["dense", "krp"])
def test_ios4s_refit_stays_sign_symmetric(conv8, small_acts, pruning):
    """GPTQ + the scale search only move codes among the grid's levels and the scales: every code
    of the refitted ios4s layer is legal for the symmetric decode (-1)^(c >> 3) * M[c & 7]."""
    from pymodel import codes, export, quant

    layer = make_layer(_sub(conv8, 16), small_acts, "ios4s", pruning, refit=True)
    desc = layer.level_desc
    assert layer.scheme == "ios" and layer.extra["gptq_scale_search"] and codes.is_sign_symmetric(desc)
    mags = codes.level_values(desc)[:8]
    assert mags[0] == 0 and (np.diff(mags) > 0).all()
    assert codes.level_exp_max(desc) == layer.extra["level_exp_max"] <= SCHEMES["ios4s"].level_exp_max
    assert SCHEMES["ios4s"].level_exp_max == quant.IOS_SYM_EXP_MAX
    np.testing.assert_array_equal(np.where(layer.codes >> 3, -1, 1) * mags[layer.codes & 7], layer.wint)
    assert (layer.codes[~layer.mask] == 0).all()
    assert export.set_name_of(layer, 8, None) == f"ios4s-{pruning}"  # not ios4's name
    tile = {"cin_offset": 0, "cin": 32, "cout_offset": 0, "cout": 16, "y0": 0, "h": 8, "x0": 0, "w": 8}
    assert export.set_name_of(layer, 4, tile) == f"ios4s-{pruning}-a4-t32x16x8x8"
