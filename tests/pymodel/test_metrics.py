from __future__ import annotations

import math

import numpy as np
import pytest

from pymodel.metrics import conv_float, cosine, fidelity, op_counts, sqnr_db, storage_bits
from pymodel.schemes import make_layer
from pymodel.types import ConvWeights


def test_conv_float_matches_direct_sum():
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 3, 5, 4)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    ref = np.zeros((2, 4, 5, 4))
    for ky in range(3):
        for kx in range(3):
            ref += np.einsum("nchw,oc->nohw", xp[:, :, ky:ky + 5, kx:kx + 4], w[:, :, ky, kx])
    ref += b[None, :, None, None]
    np.testing.assert_allclose(conv_float(x, w, b), ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(conv_float(x[0], w, b), ref[0], rtol=1e-4, atol=1e-4)


def test_sqnr_and_cosine():
    a = np.array([1.0, 2.0, 3.0])
    assert sqnr_db(a, a) == math.inf and cosine(a, a) == pytest.approx(1.0)
    assert sqnr_db(a, a * 1.1) == pytest.approx(20.0)


def test_fidelity_int8_dense(conv8, acts):
    layer = make_layer(conv8, acts, "int8", "dense")
    f = fidelity(layer, conv8, acts)
    assert f["sqnr_db"] > 38 and f["cosine"] > 0.9999


def test_storage_and_ops_for_krp_pot(conv8, acts):
    layer = make_layer(conv8, acts, "pot4", "krp")
    sb = storage_bits(layer)
    kernels = 512 * 256
    assert sb["weight_bits"] == kernels * 3 * 4
    assert sb["metadata_bits"] == kernels * 2 + 512 * 96
    assert sb["ratio_vs_fp32"] == pytest.approx((512 * 256 * 9 + 512) * 32 / sb["total_bits"])
    oc = op_counts(layer)
    nnz = int((layer.wint != 0).sum())
    assert oc == {"multiplies": 0, "shifts": 784 * nnz, "adds": 784 * nnz, "lookups": 0,
                  "executed_products": 784 * kernels * 3, "executed_adds": 784 * kernels * 3}


def test_storage_ikr_and_unstructured(conv8, acts):
    ikr = make_layer(conv8, acts, "int4", "ikr")
    assert storage_bits(ikr)["metadata_bits"] == 512 * 256 * 3 + 8 * 9 + 512 * 96
    uns = make_layer(conv8, acts, "int8", "unstructured")
    sb = storage_bits(uns)
    assert sb["weight_bits"] == int(uns.mask.sum()) * 8 and sb["metadata_bits"] == uns.mask.size + 512 * 96


def test_ios_op_counts(conv8, acts):
    sub = ConvWeights(conv8.weight[:64].copy(), conv8.bias[:64].copy(), conv8.source)
    layer = make_layer(sub, acts, "ios4", "dense")
    oc = op_counts(layer)
    nnz = int((layer.wint != 0).sum())
    assert oc["lookups"] == 784 * nnz and oc["multiplies"] == 0
    mags = sorted({abs(int(v)) for v in layer.wint[layer.wint != 0]})
    mants = {m >> ((m & -m).bit_length() - 1) for m in mags} - {1}
    bank_shifts = len(mants) + sum(1 for m in mags if m % 2 == 0)
    assert oc["shifts"] == 256 * 784 * bank_shifts
    assert oc["adds"] == 784 * nnz + 256 * 784 * len(mants)
    # the bank is shared by all 512 output lanes: far fewer shifts than weight products
    assert oc["shifts"] < oc["lookups"] / 8
