"""Find and load golden vector sets (docs/vector_format.md) for the cores under test.

Expected data come only from here, i.e. from `pymodel.vectors.load_vectors`; testbenches never
compute their own reference.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

from .sim_env import VECTOR_ROOT

PLUT_LEVEL_EXP_MAX = 8  # rtl conv_plut: largest ios level exponent the product tables hold
MAKE_VECTORS_HINT = "run `make vectors` (python -m pymodel export) to create build/vectors/"


@dataclass(frozen=True)
class CoreKind:
    """One arithmetic core + code format: its wrapper module and the vectors it can consume."""

    name: str
    toplevel: str
    scheme: str
    w_bits: int
    exp1_bits: int = 0
    exp2_bits: int = 0
    layer_sets: tuple[str, ...] = field(default=())  # whole-layer vector sets, preferred first
    # (each also tried with the exporter's "-norefit" suffix)

    def hdl_parameters(self) -> dict[str, int]:
        params = {"W_BITS": self.w_bits}
        if self.toplevel == "conv_shift":
            params |= {"EXP1_BITS": self.exp1_bits, "EXP2_BITS": self.exp2_bits}
        if self.toplevel == "conv_plut":
            params |= {"LEVEL_EXP_MAX": PLUT_LEVEL_EXP_MAX}
        return params

    def max_abs_weight(self) -> int:
        """Largest |w| the built core must accumulate (sizes ACC_BITS, reported in INFO)."""
        from pymodel import codes
        if self.scheme == "ios":  # the core bounds level exponents by LEVEL_EXP_MAX
            return 7 << PLUT_LEVEL_EXP_MAX
        return codes.max_abs_weight(self.scheme, self.w_bits, self.exp1_bits, self.exp2_bits)

    def accepts(self, manifest: dict) -> bool:
        return (manifest.get("scheme") == self.scheme and int(manifest.get("w_bits", -1)) == self.w_bits
                and (self.scheme not in ("pot", "apot")
                     or (int(manifest.get("exp1_bits", 0)), int(manifest.get("exp2_bits", 0)))
                     == (self.exp1_bits, self.exp2_bits)))


CORES = {c.name: c for c in (
    CoreKind("mult-int8", "conv_mult", "int", 8, layer_sets=("int8-dense",)),
    CoreKind("mult-int4", "conv_mult", "int", 4, layer_sets=("int4-dense",)),
    CoreKind("shift-pot4", "conv_shift", "pot", 4, 3, 0, layer_sets=("pot4-dense", "pot4-krp")),
    CoreKind("shift-apot6", "conv_shift", "apot", 6, 2, 2, layer_sets=("apot6-dense", "apot6-krp")),
    CoreKind("plut-ios4", "conv_plut", "ios", 4, layer_sets=("ios4-dense",)),
)}


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


def tile_sets(core: CoreKind) -> list[str]:
    """Names of the small (tile) vector sets this core can run, smallest layer first.

    The RTL cores run dense codes with Cin a multiple of PAR_IN: the IKR tiles (served by the
    HLS kernels) and the synthetic stress sets (odd channel counts) are left out explicitly."""
    names = [n for n, m in manifests().items()
             if core.accepts(m) and m.get("tile") and m.get("pruning") in ("dense", "krp")
             and not m.get("stress")]

    def work(n: str) -> int:
        layer = manifests()[n].get("tile") or {}
        counts = [layer.get(k) for k in ("cin", "cout", "h", "w")]
        return int(__import__("math").prod(c for c in counts if isinstance(c, int)))
    return sorted(names, key=lambda n: (work(n), n))


def resolve_layer_set(base: str) -> str | None:
    """`base` or, if only that exists, its "-norefit" export."""
    return next((n for n in (base, base + "-norefit") if n in manifests()), None)


def layer_set(core: CoreKind) -> str | None:
    """The whole-layer vector set for this core, or None."""
    for name in (n + suffix for n in core.layer_sets for suffix in ("", "-norefit")):
        m = manifests().get(name)
        if m is not None and core.accepts(m) and not m.get("tile"):
            return name
    return None
