"""Build and run the unit testbenches (verif/<unit>/): one Verilator model per (unit, parameters),
its own build dir build/sim/unit-<name>, the cocotb module configured through UNIT_TB_CONFIG."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from .runner import build_model, run_cocotb
from .sim_env import RTL_DIR, VERIF_DIR, sim_tools_missing

UNITS_VLT = VERIF_DIR / "common" / "unit_ports.vlt"  # the unit tops' ports, public for cocotb


def run_unit(name: str, toplevel: str, rtl_files: Sequence[str], parameters: Mapping[str, int],
             test_module: str, config: Mapping | None = None, extra_sources: Sequence[Path] = ()) -> Path:
    """Build `toplevel` from rtl/<rtl_files> (+ `extra_sources`) and run `test_module` on it."""
    why = sim_tools_missing()
    if why:
        pytest.skip(why)
    sources = [RTL_DIR / f for f in rtl_files]
    missing = [str(p) for p in sources if not p.exists()]
    if missing:
        pytest.skip(f"{missing} do not exist")
    waivers = [p for p in [RTL_DIR / "lint.vlt"] if p.exists()]  # the RTL waivers, as engine builds
    build = build_model(f"unit-{name}", toplevel, [*sources, *extra_sources, *waivers, UNITS_VLT], parameters)
    return run_cocotb(build, toplevel, test_module, run_name="unit",
                      env={"UNIT_TB_CONFIG": json.dumps(dict(config or {}) | {"name": name,
                                                                            "parameters": dict(parameters)})})
