"""Find and load golden vector sets (docs/vector_format.md) for the cores under test.

Expected data come only from here, i.e. from `pymodel.vectors.load_vectors`; testbenches never
compute their own reference.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from pathlib import Path

from pymodel import registry

from .sim_env import VECTOR_ROOT

MAKE_VECTORS_HINT = "run `make vectors` (python -m pymodel export) to create build/vectors/"

# The cores under test and their build facts come from the one registry (spec/cores.hjson).
CoreKind = registry.Core
CORES = registry.cores()
TOPLEVEL = registry.TOPLEVEL
IKR_K, IKR_P = registry.ikr_setting()  # the IKR cores: 4 of 9 weights kept, a library of 8 patterns


def pruning_fits(fmt: str, manifest: dict) -> bool:
    """Whether a set's pruning runs on a core of weight format `fmt`: a dense core runs any codes
    (pruned weights are zero codes); a KRP / IKR core runs only its own format's metadata."""
    pruning = manifest.get("pruning")
    if fmt == "dense":
        return pruning in ("dense", "krp", "ikr", "unstructured")
    if fmt == "ikr":
        hexes = manifest.get("hex", {})
        patterns = (hexes.get("patterns.hex") or {}).get("count")
        return pruning == "ikr" and patterns == IKR_P
    return pruning == fmt


def vectors_missing() -> str | None:
    """Why no vectors can be loaded, or None."""
    try:
        import pymodel.vectors  # noqa: F401
    except ImportError as exc:
        return f"pymodel.vectors is not available ({exc})"
    if not any(VECTOR_ROOT.glob("*/manifest.json")):
        return f"no vector sets under {VECTOR_ROOT}: {MAKE_VECTORS_HINT}"
    return None


@cache
def manifests() -> dict[str, dict]:
    """name -> manifest.json of every vector set on disk (the index may be stale; the dirs are not)."""
    found = {}
    for path in sorted(VECTOR_ROOT.glob("*/manifest.json")):
        try:
            found[path.parent.name] = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue  # load_vectors() reports broken sets when a test actually uses them
    return found


def set_dir(name: str) -> Path:
    return VECTOR_ROOT / name


@lru_cache(maxsize=8)
def load_set(name: str):
    """The VectorSet `name` (raises pymodel.vectors.VectorFormatError on any inconsistency)."""
    from pymodel.vectors import load_vectors

    return load_vectors(set_dir(name))


def dims(vs) -> tuple[int, int, int, int]:
    """(cin, cout, h, w) of a vector set, from its arrays."""
    cin, h, w = vs.act.shape
    return cin, vs.acc.shape[0], h, w


def tile_sets(core: CoreKind, fmt: str = "dense") -> list[str]:
    """Names of the small (tile) vector sets this core can run in weight format `fmt`, smallest
    layer first: a dense core runs the dense and KRP tiles, a pruned core its own format's tiles.
    The synthetic stress sets are not tiles (their Cin 20 / 9 and Cout 5 are not multiples of
    every PAR_IN / PAR_OUT): `stress_sets` lists them and `fit_channels` pads them for a core."""
    names = [n for n, m in manifests().items()
             if core.accepts(m) and m.get("tile") and not m.get("stress")
             and (m.get("pruning") in ("dense", "krp") if fmt == "dense" else pruning_fits(fmt, m))]

    def work(n: str) -> int:
        layer = manifests()[n].get("tile") or {}
        counts = [layer.get(k) for k in ("cin", "cout", "h", "w")]
        return int(__import__("math").prod(c for c in counts if isinstance(c, int)))
    return sorted(names, key=lambda n: (work(n), n))


def resolve_layer_set(base: str) -> str | None:
    """`base` or, if only that exists, its "-norefit" export."""
    return next((n for n in (base, base + "-norefit") if n in manifests()), None)


def layer_set(core: CoreKind, fmt: str = "dense") -> str | None:
    """The whole-layer vector set of this core's weight format `fmt`, or None."""
    for name in (n + suffix for n in core.layer_sets for suffix in ("", "-norefit")):
        m = manifests().get(name)
        if m is not None and core.accepts(m) and not m.get("tile") and m.get("pruning") == fmt:
            return name
    return None


class SetView:
    """A vector set with some arrays replaced or padded (same attribute names as a VectorSet):
    for stress sets of channel counts the core does not divide, and for error-path tests."""

    def __init__(self, base, name: str | None = None, **arrays):
        self.name = name or base.name
        self.manifest = base.manifest
        self.arrays = dict(base.arrays) | arrays

    def __getattr__(self, key: str):
        arrays = self.__dict__.get("arrays", {})
        if key in arrays:
            return arrays[key]
        raise AttributeError(key)


def fit_channels(vs, par_in: int):
    """`vs` with Cin padded up to a multiple of `par_in` by channels of zero activations.

    The padding channels reuse the codes (and KRP rows / IKR pattern ids) of the first input
    channels, so their products are 0 * w for non-zero w and the expected acc / out are the set's
    own, unchanged. Output channels are cut by the caller (a prefix of them is a valid layer)."""
    import numpy as np

    cin = vs.act.shape[0]
    pad = -cin % par_in
    if pad == 0:
        return vs
    reuse = np.arange(pad) % cin
    arrays = {"act": np.concatenate([vs.act, np.zeros((pad, *vs.act.shape[1:]), vs.act.dtype)]),
              "wcode": np.concatenate([vs.wcode, vs.wcode[:, reuse]], axis=1)}
    for key in ("row_idx", "pattern_id"):
        if key in vs.arrays:
            arrays[key] = np.concatenate([vs.arrays[key], vs.arrays[key][:, reuse]], axis=1)
    return SetView(vs, name=f"{vs.name}+{pad}zero-ch", **arrays)


def stress_sets(core: CoreKind, fmt: str = "dense") -> list[str]:
    """The synthetic stress sets (every code, max activations, shift 0, saturating outputs) this
    core runs in weight format `fmt`: a dense core its dense and KRP ones, a pruned core its own."""
    return sorted(n for n, m in manifests().items()
                  if core.accepts(m) and m.get("stress")
                  and (m.get("pruning") in ("dense", "krp") if fmt == "dense" else pruning_fits(fmt, m)))
