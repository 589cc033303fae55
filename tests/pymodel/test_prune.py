from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pymodel.prune import (
    InKernelPatternPruning,
    KernelRowPruning,
    L1Unstructured,
    ikr_mask,
    krp_mask,
    unstructured_mask,
)

weights = st.tuples(st.integers(1, 6), st.integers(1, 6)).flatmap(
    lambda s: arrays(np.float32, (s[0], s[1], 3, 3),
                     elements=st.floats(-4, 4, width=32, allow_nan=False, allow_subnormal=False)))


@settings(max_examples=60, deadline=None)
@given(weights, st.integers(1, 3))
def test_krp_keeps_exactly_k_whole_rows_of_max_l1(w, k_rows):
    mask, row_idx = krp_mask(w, k_rows)
    assert mask.shape == w.shape and mask.dtype == bool
    row_kept = mask.all(axis=3)
    assert (mask.any(axis=3) == row_kept).all()  # whole rows only
    assert (row_kept.sum(axis=2) == k_rows).all()
    l1 = np.abs(w).sum(axis=3)
    for co, ci in itertools.product(range(w.shape[0]), range(w.shape[1])):
        kept = np.flatnonzero(row_kept[co, ci])
        dropped = np.setdiff1d(np.arange(3), kept)
        if dropped.size:
            assert l1[co, ci, kept].min() >= l1[co, ci, dropped].max()
        expect = kept[0] if k_rows == 1 else kept
        np.testing.assert_array_equal(row_idx[co, ci], expect)
    assert row_idx.dtype == np.uint8


@settings(max_examples=60, deadline=None)
@given(weights, st.integers(1, 8), st.integers(1, 10))
def test_ikr_exact_k_per_kernel_from_a_library(w, k, p):
    n_subsets = len(list(itertools.combinations(range(9), k)))
    p = min(p, n_subsets)
    mask, pid, patterns = ikr_mask(w, k, p)
    assert patterns.shape == (p, 3, 3) and patterns.dtype == bool
    assert (patterns.reshape(p, 9).sum(1) == k).all()
    assert len({pt.tobytes() for pt in patterns}) == p  # distinct
    assert (mask.reshape(-1, 9).sum(1) == k).all()
    np.testing.assert_array_equal(mask, patterns[pid])
    kept_l1 = np.abs(w).reshape(-1, 9) @ patterns.reshape(p, 9).T.astype(np.float64)
    chosen = kept_l1[np.arange(kept_l1.shape[0]), pid.ravel()]
    assert (chosen >= kept_l1.max(axis=1) - 1e-9).all()  # the best library pattern


def test_ikr_library_holds_most_frequent_shapes(conv8):
    mask, pid, patterns = ikr_mask(conv8.weight, 4, 8)
    top = np.argsort(-np.abs(conv8.weight).reshape(-1, 9), axis=1, kind="stable")[:, :4]
    bits = (1 << top).sum(1)
    values, counts = np.unique(bits, return_counts=True)
    most = set(values[np.argsort(-counts, kind="stable")[:8]].tolist())
    lib = set(((patterns.reshape(8, 9).astype(int)) << np.arange(9)).sum(1).tolist())
    assert lib == most
    assert np.bincount(pid.ravel(), minlength=8).min() > 0


@settings(max_examples=40, deadline=None)
@given(weights, st.floats(0, 0.95))
def test_unstructured_keeps_largest(w, amount):
    mask = unstructured_mask(w, amount)
    assert (~mask).sum() == round(amount * w.size)
    if mask.any() and (~mask).any():
        assert np.abs(w[mask]).min() >= np.abs(w[~mask]).max()


def test_default_unstructured_density_matches_krp(conv8):
    assert abs(unstructured_mask(conv8.weight).mean() - krp_mask(conv8.weight)[0].mean()) < 1e-6


def test_bad_arguments():
    w = np.zeros((2, 2, 3, 3), np.float32)
    with pytest.raises(ValueError, match="k_rows"):
        krp_mask(w, 0)
    with pytest.raises(ValueError, match="n_patterns"):
        ikr_mask(w, 8, 10)  # only 9 patterns keep 8 of 9 taps
    with pytest.raises(ValueError, match="ikr k"):
        ikr_mask(w, 9)
    with pytest.raises(ValueError, match="3x3"):
        krp_mask(np.zeros((2, 2, 5, 5), np.float32))
    with pytest.raises(ValueError, match="amount"):
        unstructured_mask(w, 1.0)


@pytest.mark.parametrize("method", [KernelRowPruning(1), InKernelPatternPruning(4, 8), L1Unstructured()])
def test_torch_module_wrappers(method):
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(8, 4, 3, padding=1)
    expected = method.compute_mask(conv.weight)
    method.apply(conv)
    assert hasattr(conv, "weight_orig") and hasattr(conv, "weight_mask")
    np.testing.assert_array_equal(conv.weight_mask.numpy().astype(bool), expected)
    assert (conv.weight.detach().numpy()[~expected] == 0).all()


def test_non_integer_sizes_are_value_errors():
    w = np.ones((2, 2, 3, 3), np.float32)
    with pytest.raises(ValueError, match="k_rows must be an integer, got 1.5"):
        krp_mask(w, 1.5)
    with pytest.raises(ValueError, match="n_patterns must be an integer, got 2.0"):
        ikr_mask(w, 4, 2.0)
    with pytest.raises(ValueError, match="ikr k must be an integer, got True"):
        ikr_mask(w, True)


def test_make_layer_refuses_what_export_cannot_write(conv8, small_acts):
    """Issue 12 item 9: refused up front, before any quantization work."""
    from pymodel.schemes import make_layer, make_mask

    with pytest.raises(ValueError, match="k_rows=2: KRP layers keep one row per kernel"):
        make_layer(conv8, small_acts, "int8", "krp", k_rows=2)
    with pytest.raises(ValueError, match="keeps none of the layer's 1179648 weights"):
        make_layer(conv8, small_acts, "int8", "unstructured", unstructured_density=1e-9)
    with pytest.raises(ValueError, match="n_patterns must be an integer"):
        make_layer(conv8, small_acts, "int8", "ikr", n_patterns=8.5)
    with pytest.raises(ValueError, match="k_rows must be an integer"):
        make_mask(conv8.weight, "unstructured", k_rows="1")
    # the smallest density that keeps a weight still works
    mask, _ = make_mask(conv8.weight, "unstructured", unstructured_density=1 / conv8.weight.size)
    assert mask.sum() == 1
