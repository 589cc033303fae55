"""Golden vector sets: export and validated load of the on-disk format in docs/vector_format.md.

The public face of the vector format: hex I/O lives in pymodel.vector_hex, the manifest and the
validated load in pymodel.vector_manifest, tiles in pymodel.vector_tiles; this module re-exports
them and writes sets (export_vectors)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np

from . import codes as C
from . import contract as K
from . import reference as R
from . import vector_schema as S
from .types import QuantizedLayer
from .vector_hex import (  # noqa: F401 - re-exported
    HEX_FILES,
    PRUNING_HEX_FILES,
    VectorFormatError,
    hex_array,
    hex_bytes,
    hex_files,
    hex_widths,
    pattern_id_bits,
    pattern_masks,
    read_hex,
)
from .vector_manifest import (  # noqa: F401 - re-exported
    FORMAT,
    MANIFEST,
    NPZ,
    VERSION,
    VectorSet,
    load_vectors,
    manifest_digest,
    parse_json_text,
    read_index,
    read_json_file,
    read_manifest,
    remove_stale_sets,
    write_index,
)
from .vector_tiles import Tile, make_tile  # noqa: F401 - re-exported

A_BITS_RANGE = K.A_BITS_RANGE  # the contract (spec/conv_engine.hjson): activations are unsigned A_BITS
TILE_KEYS = S.TILE_KEYS
REQUIRED_META = ("weights_source", "activations_source", "seed")
PRUNINGS = ("dense", "unstructured", "krp", "ikr")


# ----------------------------------------------------------------------------- naming


def scheme_tag(layer: QuantizedLayer) -> str:
    return {
        "int": f"int{layer.w_bits}",
        "pot": f"pot{layer.w_bits}",
        "apot": f"apot{layer.w_bits}",
        "ios": "ios4",
    }[layer.scheme]


def set_name(layer: QuantizedLayer, a_bits: int = 8, tile: dict | None = None) -> str:
    """<scheme><w_bits>-<pruning>[-norefit][-a<A_BITS> if not 8][-t<Cin>x<Cout>x<H>x<W>]."""
    name = layer.name
    if a_bits != 8:
        name += f"-a{a_bits}"
    if tile is not None:
        name += f"-t{tile['cin']}x{tile['cout']}x{tile['h']}x{tile['w']}"
    return name


def stress_set_name(tag: str, pruning: str, cin: int, cout: int, h: int, w: int, a_bits: int = 8) -> str:
    """<scheme><w_bits>-<pruning>-stress[-a<A_BITS> if not 8]-t<Cin>x<Cout>x<H>x<W> (synthetic)."""
    return f"{tag}-{pruning}-stress" + (f"-a{a_bits}" if a_bits != 8 else "") + f"-t{cin}x{cout}x{h}x{w}"


# ----------------------------------------------------------------------------- export


def _prepare_arrays(
    layer: QuantizedLayer,
    act: np.ndarray,
    a_bits: int,
    bias_int: np.ndarray,
    shift: np.ndarray,
    acc: np.ndarray | None,
) -> dict[str, np.ndarray]:
    cout, cin = layer.codes.shape[:2]
    is_ios = layer.scheme == "ios"
    level_desc = np.asarray(layer.level_desc, np.uint8) if is_ios else np.zeros(C.N_LEVELS, np.uint8)
    levels = C.level_values(level_desc).astype(np.int32) if is_ios else np.zeros(C.N_LEVELS, np.int32)
    if acc is None:
        acc = R.acc_multiply(act, layer.wint)
    arrays = {
        "act": act.astype(np.uint8),
        "wcode": layer.codes.astype(np.uint8),
        "wint": layer.wint.astype(np.int32),
        "mask": layer.mask.astype(bool),
        "bias": bias_int.astype(np.int32),
        "shift": shift.astype(np.uint8),
        "level_desc": level_desc,
        "levels": levels,
        "lut": R.product_table(levels, a_bits).astype(np.int32),
        "acc": acc.astype(np.int64),
        "out": R.output_stage(acc, bias_int, shift, a_bits),
    }
    if layer.pruning == "krp":
        arrays["row_idx"] = np.asarray(layer.row_idx, np.uint8)
    if layer.pruning == "ikr":
        arrays["pattern_id"] = np.asarray(layer.pattern_id, np.uint8)
        arrays["patterns"] = np.asarray(layer.patterns, bool)
    return arrays


def export_vectors(
    out_dir: str | Path,
    layer: QuantizedLayer,
    act_u8: np.ndarray,
    a_bits: int,
    bias_int: np.ndarray,
    shift: np.ndarray,
    residual: np.ndarray,
    meta: dict,
    tile: dict | None = None,
    acc: np.ndarray | None = None,
    name: str | None = None,
) -> Path:
    """Write one vector set to out_dir/<name> (name defaults to `set_name`) and return its path.

    meta must hold weights_source, activations_source and seed; `stress: True` marks a synthetic
    edge-case set (manifest `stress`); any other JSON-serialisable keys (a_frac, out_frac, ...)
    are stored in the manifest too. `acc`, if given, must be the
    layer's accumulators (it is not recomputed, which saves time when the caller has them).
    """
    if not A_BITS_RANGE[0] <= a_bits <= A_BITS_RANGE[1]:
        raise ValueError(
            f"a_bits must be {A_BITS_RANGE[0]}..{A_BITS_RANGE[1]} (docs/engine.md), got {a_bits}"
        )
    C.check_format(layer.scheme, layer.w_bits, layer.exp1_bits, layer.exp2_bits)
    act = R.check_act(act_u8, a_bits)
    cout, cin = layer.codes.shape[:2]
    if act.shape[0] != cin:
        raise ValueError(f"activations have {act.shape[0]} channels, the layer has Cin={cin}")
    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        raise ValueError(f"meta is missing {missing}")
    residual = np.asarray(residual, dtype=np.float64)
    for what, arr in (("bias_int", bias_int), ("shift", shift), ("residual", residual)):
        if np.shape(arr) != (cout,):
            raise ValueError(f"{what} must have shape ({cout},), got {np.shape(arr)}")
    if tile is not None and sorted(tile) != sorted(TILE_KEYS):
        raise ValueError(f"tile must have keys {TILE_KEYS}, got {sorted(tile)}")
    acc_bits = R.acc_bits_for(layer, cin, a_bits)
    arrays = _prepare_arrays(layer, act, a_bits, np.asarray(bias_int), np.asarray(shift), acc)
    name = name or meta.get("name") or set_name(layer, a_bits, tile)
    if not isinstance(name, str) or not re.fullmatch(S.SET_NAME_PATTERN, name):
        raise ValueError(f"set name {name!r} is not a plain lowercase name ({S.SET_NAME_PATTERN})")
    path = Path(out_dir) / name
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)

    files: dict[str, dict] = {}

    def put(filename: str, data: bytes) -> None:
        (path / filename).write_bytes(data)
        files[filename] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}

    npz = io.BytesIO()
    np.savez(npz, **arrays)
    put(NPZ, npz.getvalue())
    n_patterns = arrays["patterns"].shape[0] if "patterns" in arrays else 0
    widths = hex_widths(layer.w_bits, a_bits, acc_bits, layer.pruning, n_patterns)
    files_spec = hex_files(layer.pruning)
    for filename in files_spec:
        put(filename, hex_bytes(hex_array(filename, arrays), widths[filename]))

    h, w = act.shape[1:]
    manifest = {k: v for k, v in meta.items() if k not in ("name", "stress")}
    manifest.update(
        {
            "format": FORMAT,
            "version": VERSION,
            "name": name,
            "scheme": layer.scheme,
            "scheme_tag": scheme_tag(layer),
            "pruning": layer.pruning,
            "refit": bool(layer.refit),
            "w_bits": layer.w_bits,
            "exp1_bits": layer.exp1_bits,
            "exp2_bits": layer.exp2_bits,
            "a_bits": a_bits,
            "acc_bits": acc_bits,
            "layer": {"cin": cin, "cout": cout, "h": h, "w": w, "k": 3, "stride": 1, "pad": 1},
            "tile": tile,
            "stress": bool(meta.get("stress", False)),
            "wscale": [float(s) for s in layer.wscale],
            "residual": [float(r) for r in residual],
            "hex": {
                f: {
                    "bits": widths[f],
                    "signed": signed,
                    "order": order,
                    "count": int(hex_array(f, arrays).size),
                }
                for f, (_key, signed, order) in files_spec.items()
            },
            "files": files,
        }
    )
    manifest["manifest_sha256"] = manifest_digest(manifest)
    # allow_nan=False: NaN / Infinity are not JSON, and no reader accepts them
    (path / MANIFEST).write_text(json.dumps(manifest, indent=1, allow_nan=False) + "\n")
    return path
