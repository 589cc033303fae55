from __future__ import annotations

import numpy as np
import pytest

from pymodel.activations import (
    CROP,
    SPLIT_X,
    choose_a_frac,
    conv8_inputs,
    crop_positions,
    quantize_activations,
    random_inputs,
)


def test_real_photo_activations_shape_and_range(acts):
    assert acts.calib_float.shape == (6, 256, 28, 28) and acts.heldout_float.shape == (4, 256, 28, 28)
    assert acts.calib_float.dtype == np.float32 and acts.calib_int.dtype == np.uint8
    assert acts.calib_float.min() >= 0  # post-ReLU, max-pooled
    assert 0.1 < (acts.calib_float > 0).mean() < 0.9  # real ReLU sparsity, not noise or all-zero
    assert acts.calib_int.max() <= 255 and acts.heldout_int.max() <= 255
    np.testing.assert_array_equal(acts.calib_int, acts.quantize(acts.calib_float))
    assert "china.jpg" in acts.source and "flower.jpg" in acts.source


def test_quantization_step_is_sensible(acts):
    step = acts.step
    x = acts.calib_float
    inside = x <= 255 * step
    assert inside.mean() > 0.999  # at most 0.1% of the values saturate
    err = np.abs(acts.calib_int[inside] * step - x[inside])
    assert err.max() <= step / 2 + 1e-6
    # a coarser step (one less fractional bit) or finer one must not be better in MSE
    def mse(a_frac):
        q = quantize_activations(x, 8, a_frac).astype(np.float64) * 2.0 ** -a_frac
        return float(np.mean((q - x) ** 2))
    assert mse(acts.a_frac) <= min(mse(acts.a_frac - 1), mse(acts.a_frac + 1))


def test_calibration_and_heldout_are_disjoint_and_use_both_photos():
    pos = crop_positions(6, 4, seed=0)
    calib = [p for p in pos if p[0] == "calib"]
    held = [p for p in pos if p[0] == "heldout"]
    assert len(calib) == 6 and len(held) == 4
    assert all(x + CROP <= SPLIT_X for _, _, _, x in calib)
    assert all(x >= SPLIT_X and x + CROP <= 640 for _, _, _, x in held)
    assert {p for _, p, _, _ in calib} == {0, 1} and {p for _, p, _, _ in held} == {0, 1}
    assert crop_positions(6, 4, seed=0) == pos and crop_positions(6, 4, seed=1) != pos


def test_heldout_differs_from_calibration(acts):
    assert not any(np.allclose(h, c) for h in acts.heldout_float for c in acts.calib_float)


def test_four_bit_activations(convs, acts):
    a4 = conv8_inputs(convs, a_bits=4)
    assert a4.calib_int.max() <= 15 and a4.a_frac < acts.a_frac
    np.testing.assert_array_equal(a4.calib_float, acts.calib_float)  # same float data, cached


@pytest.mark.parametrize("bad", [3, 9, 0, 8.0])
def test_unsupported_a_bits(convs, bad):
    with pytest.raises(ValueError, match="a_bits"):
        conv8_inputs(convs, a_bits=bad)
    with pytest.raises(ValueError, match="a_bits"):
        random_inputs(4, 3, 3, bad, 1, 0)


def test_random_inputs():
    x = random_inputs(8, 5, 6, 5, n=3, seed=2)
    assert x.shape == (3, 8, 5, 6) and x.dtype == np.uint8
    assert x.max() == 31 and x.min() == 0
    np.testing.assert_array_equal(x, random_inputs(8, 5, 6, 5, n=3, seed=2))


def test_choose_a_frac_rejects_all_zero():
    with pytest.raises(ValueError, match="all zero"):
        choose_a_frac(np.zeros((1, 2, 3, 3)), 8)
