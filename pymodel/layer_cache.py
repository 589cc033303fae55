"""On-disk cache of quantized layers (build/cache/layers/*.npz): keyed by the weights, the
calibration activations, the configuration and the quantizer sources; every entry carries a
digest of its contents and is recomputed when it no longer matches."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from .inputs import import_quantizers
from .types import QuantizedLayer

LAYER_CACHE_VERSION = 2  # 2: entries carry a digest of their contents, verified on load


def _module_digest() -> str:
    """Hash of the quantizer sources, so cached layers are dropped when the code changes."""
    h = hashlib.sha256()
    for name in ("codes", "types", "prune", "quant", "refit", "schemes"):
        f = Path(__file__).with_name(f"{name}.py")
        h.update(f.read_bytes() if f.is_file() else b"-")
    return h.hexdigest()[:16]


def layer_to_npz(layer: QuantizedLayer, path: Path) -> None:
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


def layer_from_npz(path: Path) -> QuantizedLayer | None:
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

    schemes, _ = import_quantizers()
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
        layer = layer_from_npz(path)
        if layer is not None:
            return layer
    layer = schemes.make_layer(conv8, acts, scheme, pruning, refit=refit)
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(f"{scheme}-{pruning}-{int(refit)}-a{acts.a_bits}-*.npz"):
            stale.unlink(missing_ok=True)  # one entry per configuration: the cache must not grow
        layer_to_npz(layer, path)
    return layer
