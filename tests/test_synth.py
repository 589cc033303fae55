"""Yosys synth_xilinx smoke test: every core builds, MULT uses DSP48E1, SHIFT/PLUT use none.

Runs `scripts/synth_yosys.py --quick` (the p4x4 parameter set, two yosys runs at a time, about
two minutes on two cores) into a temporary directory, so build/synth/synth.json of a full run
is left alone.
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
CORES = {"mult_int8", "mult_int8_nodsp", "shift_pot4", "shift_apot6", "plut_ios4"}


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
    for core in ("mult_int8_nodsp", "shift_pot4", "shift_apot6", "plut_ios4"):
        assert runs[core]["DSP48E1"] == 0, f"{core}: {runs[core]['DSP48E1']} DSP48E1"
