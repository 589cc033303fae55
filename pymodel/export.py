"""`python -m pymodel export`: the golden vector sets (docs/vector_format.md) of every scheme x
pruning, whole layer and tiles, the A_BITS variants, the synthetic stress sets, and the index."""

from __future__ import annotations

import json
import math
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import reference as R
from . import registry
from . import stress as S
from . import vectors as V
from .inputs import CliError, check_names, import_quantizers, load_inputs
from .layer_cache import cached_layer
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


# the retrained layers of `report --retrain` / `export --retrain`: method -> (schemes, prunings)
RETRAIN_JOBS = {
    "qat": (("pot4", "int4"), ("dense", "krp", "ikr")),
    "inq": (("pot4",), ("krp", "ikr")),
    "iosdist": (("ios4",), ("dense", "krp", "ikr")),
    "krplr": (("pot4", "int4"), ("krp",)),
}


LAYER_NAME = "VGG16 conv8 (conv4_1 / Keras block4_conv1): 256->512, 3x3, stride 1, pad 1, 28x28"


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


def export_jobs(scheme_names: list[str], prunings: list[str], refit: bool,
                baselines: bool) -> list[tuple[str, str, bool]]:
    """(scheme, pruning, refit) of every full-layer set: each pruning refitted or not, plus,
    with refit and baselines, the unrefitted dense layer of each scheme to compare with."""
    jobs = [(s, p, refit) for s in scheme_names for p in prunings]
    if refit and baselines and "dense" in prunings:
        jobs += [(s, "dense", False) for s in scheme_names]
    return jobs


def run_export(args, progress: bool = True) -> tuple[list[Path], dict]:
    """Write the vector sets; returns their paths and per-step timings."""
    schemes, _ = import_quantizers()
    scheme_names = (check_names(args.schemes, schemes.SCHEMES, "scheme") if args.schemes
                    else list(schemes.EXPORT_SCHEMES))
    prunings = check_names(args.prunings, schemes.PRUNINGS, "pruning")
    timing: dict[str, float] = {}
    t0 = time.perf_counter()
    conv8, acts, out_frac = load_inputs(args, args.a_bits)
    timing["inputs_s"] = time.perf_counter() - t0

    jobs = export_jobs(scheme_names, prunings, args.refit, args.baselines)
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
            **({"name": set_name_of(layer, a_bits, tile)} if set_name_of(layer, a_bits, tile) else {}),
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
        for method, scheme, pruning in retrain_jobs(getattr(args, "retrain_methods", None), scheme_names,
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
            _, acts_a, o_frac = load_inputs(args, a_bits)
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


def set_name_of(layer: QuantizedLayer, a_bits: int, tile) -> str | None:
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


def retrain_jobs(methods, scheme_names, prunings) -> list[tuple[str, str, str]]:
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
    schemes, _ = import_quantizers()
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
                    S.ios_sym_stress_levels(S.IOS_MAX_EXP if spec.level_exp_max is None
                                            else spec.level_exp_max) if spec.symmetric else None,
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
