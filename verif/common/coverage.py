"""Functional coverage: named bins hit by the testbenches, written per simulator run, closed per session.

Every bin the regression must hit is declared here, in `universe()`, from the cores and error
kinds; a testbench only counts hits (`hit(group, name)`), and each simulator run writes its
counts to the JSON file named by CONV_COVERAGE_FILE (set by runner.run_cocotb, one file per
build x run, so pytest-xdist workers never share one). `pytest --functional-coverage` (what
`make sim` runs) merges every file of the session at its end, prints hit / total per group and
fails the session when a declared bin stayed empty.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

from .sim_env import BUILD_ROOT

COVERAGE_DIR = BUILD_ROOT / "coverage"
ENV_FILE = "CONV_COVERAGE_FILE"

# error kinds the engine TB provokes (docs/engine.md STATUS bits 2, 4, 5, 6)
CONFIG_ERRORS = ("H=0", "H>H_MAX", "W=0", "W>W_MAX", "Cin=0", "Cin>CIN_MAX", "Cin%PAR_IN",
                 "Cout=0", "Cout>COUT_MAX", "Cout%PAR_OUT", "dims above 16 bits")
FRAME_ERRORS = tuple(f"{stream} tlast {kind}" for stream in ("act", "wgt")
                     for kind in ("misplaced", "missing"))
STALL_STREAMS = ("act idle", "wgt idle", "out backpressure")
STALL_RUNS = ("1-3 cycles", ">=4 cycles")


def _cores():
    from .vector_sets import CORES
    return CORES


def universe() -> dict[str, set[str]]:
    """group -> every bin name the regression must hit."""
    from pymodel.stress import ios_stress_levels  # noqa: F401  (the ios stress set exists)

    bins: dict[str, set[str]] = {}
    for name, core in _cores().items():
        for fmt in core.formats:
            bins.setdefault("weight codes", set()).update(
                f"{name}/{fmt} code {c}" for c in range(1 << core.w_bits))
            bins.setdefault("activations", set()).update(f"{name}/{fmt} act {v}" for v in ("0", "max"))
        if "krp" in core.formats:
            bins.setdefault("index", set()).update(f"{name} KRP row {r}" for r in range(3))
        if "ikr" in core.formats:
            bins.setdefault("index", set()).update(f"{name} IKR pattern {p}" for p in range(8))
        bins.setdefault("outputs", set()).update(
            f"{name} out {what}" for what in ("saturated at max", "clamped at 0", "shift 0"))
        bins.setdefault("stalls", set()).update(f"{name} {s} {r}" for s in STALL_STREAMS for r in STALL_RUNS)
    errors = {f"config {c}" for c in CONFIG_ERRORS} | {f"frame {f}" for f in FRAME_ERRORS}
    errors |= {"level exponent > LEVEL_EXP_MAX", "level exponent = LEVEL_EXP_MAX (legal, exact)",
               "KRP row 3", "IKR pattern of an unused slot", "IKR malformed library mask",
               "clean layer after an error"}
    if any(core.plut_sym for core in _cores().values()):
        errors |= {"symmetric core: negative magnitude descriptor",
                   "symmetric core: mirror descriptor differs"}
    bins["errors"] = errors
    bins["back end"] = {"pixels spaced to the back end's passes",
                        "tile shorter than the back end's passes (param_hold)"}
    bins.update(unit_universe())
    return bins


def unit_universe() -> dict[str, set[str]]:
    """Bins of the unit testbenches (verif/units)."""
    from .unit_bins import UNIT_BINS
    return {group: set(names) for group, names in UNIT_BINS.items()}


class Collector:
    """Hit counts of one simulator run; `save()` rewrites the run's JSON file."""

    def __init__(self, path: str | os.PathLike | None = None):
        target = path or os.environ.get(ENV_FILE)
        self.path = Path(target) if target else None
        self.hits: dict[str, Counter] = {}
        if self.path and self.path.exists():  # several cocotb tests of one run add up
            try:
                saved = json.loads(self.path.read_text())
                self.hits = {g: Counter(b) for g, b in saved.items()}
            except (OSError, json.JSONDecodeError):
                self.hits = {}

    def hit(self, group: str, name: str, count: int = 1):
        if count:
            self.hits.setdefault(group, Counter())[name] += int(count)

    def save(self):
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({g: dict(c) for g, c in self.hits.items()}, indent=0, sort_keys=True))
        tmp.replace(self.path)


_COLLECTOR: Collector | None = None


def collector() -> Collector:
    global _COLLECTOR
    if _COLLECTOR is None:
        _COLLECTOR = Collector()
    return _COLLECTOR


def merged(directory: Path = COVERAGE_DIR) -> dict[str, Counter]:
    total: dict[str, Counter] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        for group, counts in data.items():
            total.setdefault(group, Counter()).update(counts)
    return total


def report(directory: Path = COVERAGE_DIR) -> tuple[list[str], list[str]]:
    """(report lines, names of empty bins) of the merged hits against the universe."""
    hits = merged(directory)
    lines, empty = ["functional coverage (bins hit / declared):"], []
    for group, names in sorted(universe().items()):
        got = hits.get(group, Counter())
        missing = sorted(n for n in names if not got.get(n))
        lines.append(f"  {group:24s} {len(names) - len(missing):5d} / {len(names):5d}")
        empty += [f"{group}: {n}" for n in missing]
    undeclared = sorted(f"{g}: {n}" for g, c in hits.items() for n in c if n not in universe().get(g, ()))
    if undeclared:
        lines.append(f"  ({len(undeclared)} hit bins are not declared, e.g. {undeclared[0]})")
    return lines, empty
