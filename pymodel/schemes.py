"""Named weight schemes and the one entry point that prunes, (optionally) refits and quantizes conv8."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from pymodel import prune, quant
from pymodel.activations import ActivationSet
from pymodel.types import ConvWeights, QuantizedLayer


@dataclass(frozen=True)
class Scheme:
    name: str
    kind: str  # pymodel.codes scheme: int | pot | apot | ios
    w_bits: int
    exp1_bits: int = 0
    exp2_bits: int = 0
    quantizer: str = ""  # a grid other than the kind's own ("inq": INQ levels in the pot format)
    per_channel: bool = True  # pot / inq: one scale per output channel (else one per layer)
    # refit only: entropy-constrained GPTQ with the smallest rate weight whose rANS-coded storage
    # reaches this ratio against fp32 (pymodel.refit.reach_storage_ratio); the codes stay the kind's
    storage_target: float | None = None
    # ios only: a sign-symmetric codebook (quant.ios_sym_grid: code = {sign, 3-bit magnitude index},
    # 8 magnitudes with M[0] = 0; codes.is_sign_symmetric), what the plut-ios4s core's 8-magnitude
    # bank computes, and the largest level exponent the codebook may use (the product bank word is
    # A_BITS + 3 + LEVEL_EXP_MAX bits; None: unbounded)
    symmetric: bool = False
    level_exp_max: int | None = None

    def grid_maker(self, per_channel: bool | None = None):
        per_channel = self.per_channel if per_channel is None else per_channel
        if self.quantizer == "inq":
            return partial(quant.inq_grid, bits=self.w_bits, per_channel=per_channel)
        if self.kind == "int":
            return partial(quant.int_grid, bits=self.w_bits)
        if self.kind == "pot":
            return partial(quant.pot_grid, bits=self.w_bits, per_channel=per_channel)
        if self.kind == "apot":
            return partial(quant.apot_grid, bits=self.w_bits)
        if self.symmetric or self.level_exp_max is not None:
            return partial(quant.ios_grid, symmetric=self.symmetric, max_exp=self.level_exp_max)
        return quant.ios_grid


SCHEMES: dict[str, Scheme] = {
    "int8": Scheme("int8", "int", 8),
    "int4": Scheme("int4", "int", 4),
    "pot4": Scheme("pot4", "pot", 4, 3),
    "apot5": Scheme("apot5", "apot", 5, 2, 1),
    "apot6": Scheme("apot6", "apot", 6, 2, 2),
    "ios4": Scheme("ios4", "ios", 4),
    # sign-symmetric ios4 codebook for the cheaper product-LUT core: 7 magnitudes +- (and 0), level
    # exponents <= quant.IOS_SYM_EXP_MAX (docs/fidelity.md); the same 16-descriptor vector format as ios4
    "ios4s": Scheme("ios4s", "ios", 4, symmetric=True, level_exp_max=quant.IOS_SYM_EXP_MAX),
    # INQ's exact level set and rounding, coded as pot4 (same hardware): per layer as in INQ, and
    # per channel as an option
    "inq4": Scheme("inq4", "pot", 4, 3, quantizer="inq", per_channel=False),
    "inq4c": Scheme("inq4c", "pot", 4, 3, quantizer="inq", per_channel=True),
    # pot4 codes chosen for entropy-coded storage: 27x fp32 after rANS (issue 15's KRP target)
    "pot4e": Scheme("pot4e", "pot", 4, 3, storage_target=27.0),
}
# what `python -m pymodel export` writes by default: the RTL and HLS tests select these sets by
# name, so schemes added later are exported only when asked for (--schemes), or when a core's
# tests need them (ios4s, the sign-symmetric product-LUT core)
EXPORT_SCHEMES = ("int8", "int4", "pot4", "apot5", "apot6", "ios4", "ios4s")
PRUNINGS = ("dense", "unstructured", "krp", "ikr")


def make_mask(weight: np.ndarray, pruning: str, k_rows: int = 1, ikr_k: int = 4, n_patterns: int = 8,
              unstructured_density: float | None = None) -> tuple[np.ndarray, dict]:
    """(mask, metadata for QuantizedLayer) of a pruning method. Unstructured defaults to the
    density of the KRP setting (k_rows/3) so the two compare at equal weight count."""
    if pruning not in PRUNINGS:
        raise ValueError(f"unknown pruning {pruning!r}; expected one of {', '.join(PRUNINGS)}")
    for what, value in (("k_rows", k_rows), ("ikr_k", ikr_k), ("n_patterns", n_patterns)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise ValueError(f"{what} must be an integer, got {value!r}")
    if pruning == "dense":
        return np.ones(weight.shape, bool), {}
    if pruning == "unstructured":
        density = k_rows / 3.0 if unstructured_density is None else unstructured_density
        if not isinstance(density, (int, float, np.floating)) or not 0.0 < density <= 1.0:
            raise ValueError(f"unstructured density must be in (0, 1], got {density!r}")
        kept = weight.size - int(round((1.0 - density) * weight.size))
        if kept < 1:
            raise ValueError(
                f"unstructured density {density!r} keeps none of the layer's {weight.size} weights")
        return prune.unstructured_mask(weight, 1.0 - density), {}
    if pruning == "krp":
        mask, row_idx = prune.krp_mask(weight, k_rows)
        return mask, {"row_idx": row_idx}
    mask, pattern_id, patterns = prune.ikr_mask(weight, ikr_k, n_patterns)
    return mask, {"pattern_id": pattern_id, "patterns": patterns}


def make_layer(conv8: ConvWeights, acts: ActivationSet, scheme: str, pruning: str, refit: bool = False,
               k_rows: int = 1, ikr_k: int = 4, n_patterns: int = 8, seed: int = 0,
               unstructured_density: float | None = None, per_channel: bool | None = None,
               retrain: str | None = None, retrain_steps: int | None = None) -> QuantizedLayer:
    """Prune conv8, optionally refit it on the calibration crops, and quantize it to `scheme`.

    Without refit the masked float weights are rounded to the nearest level of the scheme's grid
    and the float bias is kept. With refit the kept weights and bias are refitted by least
    squares and quantized with error feedback (pymodel.refit). `seed` is recorded only: every
    step is deterministic. `retrain` (pymodel.retrain.METHODS, needs refit) then fine-tunes the
    refitted codes by distillation on the calibration crops. A scheme's storage_target applies to
    the refit path only (it needs the calibration loss): without refit it rounds like its kind."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    if pruning not in PRUNINGS:
        raise ValueError(f"unknown pruning {pruning!r}; expected one of {', '.join(PRUNINGS)}")
    w_shape = conv8.weight.shape
    if len(w_shape) != 4 or w_shape[2:] != (3, 3) or conv8.bias.shape != w_shape[:1]:
        raise ValueError(f"conv8 must be 3x3 OIHW weights with a bias, got {conv8.weight.shape}, "
                         f"{conv8.bias.shape}")
    if acts.calib_float.shape[1] != conv8.weight.shape[1]:
        raise ValueError(f"activations have {acts.calib_float.shape[1]} channels, conv8 expects "
                         f"{conv8.weight.shape[1]}")
    if pruning == "krp" and k_rows != 1:
        # the KRP vector format (rowidx.hex), the RTL cores and the HLS kernels keep one row
        raise ValueError(f"k_rows={k_rows!r}: KRP layers keep one row per kernel (k_rows=1); the vector "
                         "format, the cores and the kernels have no multi-row index")
    spec = SCHEMES[scheme]
    mask, meta = make_mask(conv8.weight, pruning, k_rows, ikr_k, n_patterns, unstructured_density)
    grid_maker = spec.grid_maker(per_channel)
    if retrain is not None:
        from pymodel.retrain import METHODS

        if retrain not in METHODS:
            raise ValueError(f"unknown retraining method {retrain!r}; expected one of {', '.join(METHODS)}")
        if not refit:
            raise ValueError("retraining starts from the refitted layer: use refit=True with retrain")
    if refit:
        from pymodel.refit import refit_and_quantize

        # Dense: the float weights already are the LS optimum; only the error feedback applies.
        def ratio_of(q):  # rANS-coded storage of the layer these codes would make, x fp32
            from pymodel.entropy import entropy_storage

            return entropy_storage(_layer(spec, pruning, False, q, mask, meta, np.zeros(w_shape[0]),
                                          {}))["rans_ratio_vs_fp32"]

        # The 4-bit grids search their scale's neighbours (one scale step is a large part of their
        # error; at 5-8 bits the search is not worth its time); INQ fixes its scale by rule (n1).
        quantized, bias, info = refit_and_quantize(conv8, acts, mask, grid_maker,
                                                   lsq_refit=pruning != "dense",
                                                   scale_search=spec.w_bits <= 4 and spec.quantizer != "inq",
                                                   storage_target=spec.storage_target, ratio_of=ratio_of)
        if retrain is not None:
            from pymodel.retrain import retrain_layer

            quantized, bias, rinfo = retrain_layer(conv8, acts, mask, quantized, bias, retrain,
                                                   pruning=pruning, steps=retrain_steps)
            info = {**info, **rinfo}
    else:
        quantized = grid_maker(conv8.weight, mask).quantize(conv8.weight, mask)
        bias, info = conv8.bias.astype(np.float64), {}
    extra = {"seed": seed, "density": float(mask.mean()), "scheme_name": scheme, **quantized.grid.extra,
             **info}
    if retrain is not None:
        extra["retrain"] = retrain
    if pruning == "krp":
        extra["k_rows"] = k_rows
    if pruning == "ikr":
        extra.update(ikr_k=ikr_k, n_patterns=n_patterns)
    return _layer(spec, pruning, refit, quantized, mask, meta, bias, extra)


def _layer(spec: Scheme, pruning: str, refit: bool, quantized, mask, meta: dict, bias, extra: dict
           ) -> QuantizedLayer:
    return QuantizedLayer(
        scheme=spec.kind, pruning=pruning, refit=refit, w_bits=spec.w_bits, exp1_bits=spec.exp1_bits,
        exp2_bits=spec.exp2_bits, codes=quantized.codes, wint=quantized.wint,
        wscale=quantized.wscale.astype(np.float64), mask=mask, bias=np.asarray(bias, np.float32),
        level_desc=quantized.level_desc, row_idx=meta.get("row_idx"),
        pattern_id=meta.get("pattern_id"), patterns=meta.get("patterns"), extra=extra)
