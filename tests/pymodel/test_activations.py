from __future__ import annotations

import numpy as np
import pytest

from pymodel.activations import (
    CROP,
    choose_a_frac,
    conv8_inputs,
    crop_positions,
    photos,
    quantize_activations,
    random_inputs,
    split_photos,
)


def test_real_photo_activations_shape_and_range(acts):
    n_photos = len(photos())
    assert len(acts.calib_float) + len(acts.heldout_float) == 3 * n_photos  # 3 crops per photo
    assert acts.calib_float.shape[1:] == acts.heldout_float.shape[1:] == (256, 28, 28)
    assert acts.calib_float.dtype == np.float32 and acts.calib_int.dtype == np.uint8
    assert acts.calib_float.min() >= 0  # post-ReLU, max-pooled
    assert 0.1 < (acts.calib_float > 0).mean() < 0.9  # real ReLU sparsity, not noise or all-zero
    assert acts.calib_int.max() <= 255 and acts.heldout_int.max() <= 255
    np.testing.assert_array_equal(acts.calib_int, acts.quantize(acts.calib_float))
    assert "china.jpg" in acts.source and "flower.jpg" in acts.source and "astronaut.png" in acts.source


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


def test_photos_are_the_shipped_real_photos():
    ps = photos()
    names = [p.name for p in ps]
    expected = {"sklearn:china.jpg", "sklearn:flower.jpg", "skimage:astronaut.png", "skimage:coffee.png"}
    assert expected <= set(names)
    assert len(names) == len(set(names)) >= 10
    assert all(p.rgb.dtype == np.uint8 and p.rgb.ndim == 3 and p.rgb.shape[2] == 3 for p in ps)
    assert all(min(p.rgb.shape[:2]) >= CROP for p in ps)
    assert sum(p.colour for p in ps) >= 8


def test_split_is_by_photo_and_reproducible():
    ps = [(p.name, p.colour) for p in photos()]
    calib, held = split_photos(ps, seed=0)
    assert not set(calib) & set(held) and set(calib) | set(held) == {n for n, _ in ps}
    colour = {n for n, c in ps if c}
    assert set(calib) & colour and set(held) & colour and set(calib) - colour and set(held) - colour
    assert split_photos(ps, seed=0) == (calib, held)
    assert any(split_photos(ps, seed=s) != (calib, held) for s in range(1, 4))
    sizes = {p.name: p.rgb.shape[:2] for p in photos()}
    pos = crop_positions(sizes, calib, held, 3, seed=0)
    assert len(pos) == 3 * len(ps)
    for kind, name, y, x in pos:
        assert (name in calib) == (kind == "calib")
        assert 0 <= y <= sizes[name][0] - CROP and 0 <= x <= sizes[name][1] - CROP
    assert crop_positions(sizes, calib, held, 3, seed=0) == pos


def test_activation_sets_share_no_photo(acts, small_acts):
    for a in (acts, small_acts):
        assert a.calib_photos and a.heldout_photos
        assert not set(a.calib_photos) & set(a.heldout_photos)
        assert len(a.calib_photos) == len(a.calib_float) and len(a.heldout_photos) == len(a.heldout_float)


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
