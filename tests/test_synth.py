"""Yosys synth_xilinx smoke test: every core builds, MULT uses DSP48E1 (the packed MULT one per
two products), SHIFT/PLUT use none, the per-block breakdown accounts for the whole core.

Runs `scripts/synth_yosys.py --quick` (the p4x4 parameter set, dense, two yosys runs at a time,
a few minutes on two cores) into a temporary directory, so build/synth/synth.json of a full
run (`make synth`: three parameter sets, the 16x16 one slow for PLUT) is left alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.synth

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "synth_yosys.py"
CORES = {"mult_int8", "mult_int8_nodsp", "mult_int8_pack", "mult_int4_pack", "shift_pot4", "shift_apot6",
         "plut_ios4"}


def yosys_missing() -> str | None:
    exe = os.environ.get("YOSYS", "/usr/bin/yosys")
    if os.path.isfile(exe) and os.access(exe, os.X_OK):
        return None
    if shutil.which("yosys"):
        return None
    return f"yosys not found ({exe}); install the Debian package: sudo apt-get install yosys"


def test_synth_quick(tmp_path: Path):
    why = yosys_missing()
    if why:
        pytest.skip(why)
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--jobs", "2", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=900)
    report = proc.stdout[-4000:] + proc.stderr[-4000:]
    assert proc.returncode == 0, f"synth_yosys.py --quick failed:\n{report}"
    data = json.loads((tmp_path / "synth.json").read_text())
    runs = {r["core"]: r for r in data["runs"] if r["params"] == "p4x4" and r["format"] == "dense"}
    assert set(runs) == CORES, f"cores in synth.json: {sorted(runs)}\n{report}"
    for core, r in runs.items():
        assert "error" not in r, f"{core}: {r.get('error')}"
        assert r["LUT"] > 0 and r["FF"] > 0, f"{core}: empty netlist {r}"
    assert runs["mult_int8"]["DSP48E1"] > 0, "MULT did not map onto DSP48E1"
    for core in ("mult_int8_pack", "mult_int4_pack"):
        r = runs[core]
        assert 0 < 2 * r["DSP48E1"] <= r["lanes"], f"{core}: {r['DSP48E1']} DSP48E1 for {r['lanes']} products"
    for core, r in runs.items():
        for kind in ("LUT", "FF", "LUTRAM", "DSP48E1"):
            blocks = sum(b[kind] for b in r["blocks"].values())
            assert blocks == r[kind], f"{core}: the blocks add up to {blocks} {kind}, the core has {r[kind]}"
        assert r["blocks"]["products"]["LUT"] > 0 or r["DSP48E1"] > 0, f"{core}: no product unit"
        assert r["depth"] and r["depth"] > 1, f"{core}: logic depth {r['depth']}"
    for core in ("mult_int8_nodsp", "shift_pot4", "shift_apot6", "plut_ios4"):
        assert runs[core]["DSP48E1"] == 0, f"{core}: {runs[core]['DSP48E1']} DSP48E1"
