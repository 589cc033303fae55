"""Fidelity, storage and operation counts of a quantized conv8.

Conventions (stated once, used by every report):
* fidelity is measured on the HELD-OUT crops, pre-ReLU: float layer on float inputs vs the
  quantized layer (wint * wscale, bias) on the quantized inputs (int * 2^-a_frac).
* op counts are per image for the whole layer, counting every output position H*W
  (the zero-padding taps are included, as in the usual "MACs = H*W*Cout*Cin*9" figure) and
  only the weights the hardware does not skip (nonzero integer weights); the executed_* counts
  beside them count what the cores do: every stored slot (all 9 taps dense, the 3 of the kept
  row for KRP, the k of the pattern for IKR, the kept taps unstructured) is processed, zero
  weight or not.
"""

from __future__ import annotations

import math

import numpy as np

from pymodel import codes as codefmt
from pymodel.activations import ActivationSet
from pymodel.types import ConvWeights, QuantizedLayer

PER_CHANNEL_WORDS = 3  # scale, bias, shift: 32 bits each


def conv_float(x, w, b=None) -> np.ndarray:
    """3x3 conv, stride 1, pad 1, in float32 torch: x [N,Cin,H,W] (or [Cin,H,W]), w OIHW, b [Cout]."""
    import torch
    import torch.nn.functional as F

    x = np.asarray(x, np.float32)
    single = x.ndim == 3
    if single:
        x = x[None]
    w = np.asarray(w, np.float32)
    if x.ndim != 4 or w.ndim != 4 or x.shape[1] != w.shape[1]:
        raise ValueError(f"conv_float: input {x.shape} does not match weights {w.shape}")
    with torch.no_grad():
        bias = None if b is None else torch.from_numpy(np.asarray(b, np.float32))
        y = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), bias, padding=1).numpy()
    return y[0] if single else y


def sqnr_db(reference: np.ndarray, approx: np.ndarray) -> float:
    ref = np.asarray(reference, np.float64)
    noise = float(((ref - np.asarray(approx, np.float64)) ** 2).sum())
    return math.inf if noise == 0 else 10.0 * math.log10(float((ref ** 2).sum()) / noise)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def fidelity(layer: QuantizedLayer, conv8: ConvWeights, acts: ActivationSet) -> dict:
    """{'sqnr_db', 'cosine'} of the quantized layer's output vs the float layer, held-out crops."""
    if layer.wint.shape != conv8.weight.shape:
        raise ValueError(f"layer weights {layer.wint.shape} do not match conv8 {conv8.weight.shape}")
    reference = conv_float(acts.heldout_float, conv8.weight, conv8.bias)
    x_q = acts.heldout_int.astype(np.float32) * np.float32(acts.step)
    approx = conv_float(x_q, layer.float_weight(), layer.bias)
    return {"sqnr_db": sqnr_db(reference, approx), "cosine": cosine(reference, approx)}


def _n_patterns(layer: QuantizedLayer) -> int:
    return 0 if layer.patterns is None else len(layer.patterns)


def storage_bits(layer: QuantizedLayer) -> dict:
    """Bits to store the layer in the format the hardware reads.

    dense: every code. krp: 3*k_rows codes + a 2-bit row index per kernel (for k_rows=1; for
    more rows, a 3-bit row bitmap). ikr: k codes + ceil(log2 P) pattern id per kernel + the
    9-bit patterns of the library. unstructured: kept codes + a 1-bit-per-weight occupancy
    bitmap (cheaper than any index encoding at density 1/3: a 4-bit relative index would
    cost 4 bits per kept weight = 1.33 bits per weight). Metadata also counts per output
    channel scale, bias and shift as 32 bits each and, for ios, the 16 8-bit level descriptors.
    """
    cout, cin = layer.wint.shape[:2]
    kernels = cout * cin
    kept = int(layer.mask.sum())
    b = layer.w_bits
    if layer.pruning == "dense":
        weight_bits, index_bits = layer.wint.size * b, 0
    elif layer.pruning == "krp":
        k_rows = int(layer.extra.get("k_rows", 1))
        weight_bits = kernels * 3 * k_rows * b
        index_bits = kernels * (2 if k_rows == 1 else 3)
    elif layer.pruning == "ikr":
        k = int(layer.patterns[0].sum())
        p = _n_patterns(layer)
        weight_bits = kernels * k * b
        index_bits = kernels * max(1, math.ceil(math.log2(p))) + p * 9
    elif layer.pruning == "unstructured":
        weight_bits, index_bits = kept * b, layer.wint.size
    else:
        raise ValueError(f"unknown pruning {layer.pruning!r}")
    level_bits = codefmt.N_LEVELS * 8 if layer.scheme == "ios" else 0
    metadata = index_bits + cout * PER_CHANNEL_WORDS * 32 + level_bits
    total = weight_bits + metadata
    fp32 = (layer.wint.size + cout) * 32
    return {"weight_bits": int(weight_bits), "metadata_bits": int(metadata), "total_bits": int(total),
            "ratio_vs_fp32": fp32 / total}


def op_counts(layer: QuantizedLayer, h: int = 28, w: int = 28) -> dict:
    """{'multiplies','shifts','adds','lookups'} per image (see the module docstring): the
    products of the nonzero weights as their code format computes them (int: a multiply; pot /
    apot: a shift per term; ios: a look-up into the per-activation product bank;
    pymodel.codes.CodeFormat.product_ops), and one accumulate add per product.
    """
    pixels = h * w
    fmt = codefmt.code_format(layer.scheme, layer.w_bits, layer.exp1_bits, layer.exp2_bits)
    products = fmt.product_ops(layer.wint, layer.codes, pixels, layer.wint.shape[1])
    accumulates = pixels * int(np.count_nonzero(layer.wint))
    out = {"multiplies": products.pop("multiplies", 0), "shifts": products.pop("shifts", 0),
           "adds": accumulates + products.pop("adds", 0), "lookups": products.pop("lookups", 0), **products}
    out.update(executed_counts(layer, h, w))
    return out


def stored_slots(layer: QuantizedLayer) -> int:
    """Weight slots the hardware stores and processes (zero-valued ones included)."""
    cout, cin = layer.wint.shape[:2]
    if layer.pruning == "dense":
        return int(layer.wint.size)
    if layer.pruning == "krp":
        return cout * cin * 3 * int(layer.extra.get("k_rows", 1))
    if layer.pruning == "ikr":
        return cout * cin * int(layer.patterns[0].sum())
    return int(layer.mask.sum())


def executed_counts(layer: QuantizedLayer, h: int = 28, w: int = 28) -> dict:
    """{'executed_products', 'executed_adds'} per image: one product (multiply, shift, shift
    pair for apot, or look-up for ios) and one accumulate per stored slot and output pixel
    (apot: one more add per slot for its second term)."""
    products = h * w * stored_slots(layer)
    fmt = codefmt.code_format(layer.scheme, layer.w_bits, layer.exp1_bits, layer.exp2_bits)
    adds = products * fmt.adds_per_slot
    return {"executed_products": products, "executed_adds": adds}
