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
sys.path.insert(0, str(REPO / "scripts"))
import synth_yosys as S  # noqa: E402  (its core table comes from the registry, spec/cores.hjson)


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
    assert set(runs) == set(S.CORES), f"cores in synth.json: {sorted(runs)}\n{report}"
    for core, r in runs.items():
        assert "error" not in r, f"{core}: {r.get('error')}"
        assert r["LUT"] > 0 and r["FF"] > 0, f"{core}: empty netlist {r}"
    for core, (_, nodsp) in S.CORES.items():
        if core not in S.MULTIPLIER_FREE and not nodsp:
            assert runs[core]["DSP48E1"] > 0, f"{core}: MULT did not map onto DSP48E1"
    assert S.PACKED, "no packed multiplier in the registry"
    for core in S.PACKED:
        r = runs[core]
        assert 0 < 2 * r["DSP48E1"] <= r["lanes"], f"{core}: {r['DSP48E1']} DSP48E1 for {r['lanes']} products"
    for core, r in runs.items():
        for kind in ("LUT", "FF", "LUTRAM", "DSP48E1"):
            blocks = sum(b[kind] for b in r["blocks"].values())
            assert blocks == r[kind], f"{core}: the blocks add up to {blocks} {kind}, the core has {r[kind]}"
        assert r["blocks"]["products"]["LUT"] > 0 or r["DSP48E1"] > 0, f"{core}: no product unit"
        assert r["depth"] and r["depth"] > 1, f"{core}: logic depth {r['depth']}"
    for core in S.MULTIPLIER_FREE | {c for c, (_, nodsp) in S.CORES.items() if nodsp}:
        assert runs[core]["DSP48E1"] == 0, f"{core}: {runs[core]['DSP48E1']} DSP48E1"


def test_cells_are_counted_in_the_block_of_their_instance_path():
    """The flattened cell names `$flatten\\<instance path>.<cell>` map to blocks through the
    hierarchy: dotted generate-block instance names, the deepest module with a block (requant
    inside the back end), library primitives (blackboxes) never taken for instances."""
    blackbox = {"attributes": {"blackbox": "00000000000000000000000000000001"}}
    hier = {"modules": {
        "LUT6": blackbox, "FDRE": blackbox,
        "conv_engine": {"cells": {
            "genblk8.g_shift.u_prod": {"type": "$paramod$1\\conv_prod_shift"},
            "u_backend": {"type": "$paramod$2\\conv_backend"},
            "u_regs": {"type": "$paramod$3\\conv_axil_regs"},
            "lut_a": {"type": "LUT6"}}},
        "$paramod$1\\conv_prod_shift": {"cells": {"g_out[0].lut": {"type": "LUT6"}}},
        "$paramod$2\\conv_backend": {"cells": {"u_requant": {"type": "$paramod$4\\conv_requant"},
                                               "ff": {"type": "FDRE"}}},
        "$paramod$3\\conv_axil_regs": {"cells": {}},
        "$paramod$4\\conv_requant": {"cells": {}},
    }}
    instances = S.instance_map(hier)
    assert instances["conv_engine"] == {"genblk8.g_shift.u_prod": "$paramod$1\\conv_prod_shift",
                                        "u_backend": "$paramod$2\\conv_backend",
                                        "u_regs": "$paramod$3\\conv_axil_regs"}
    flat = {"modules": {"conv_engine": {"cells": {
        "$flatten\\genblk8.g_shift.u_prod.$abc$1": {"type": "LUT6"},
        "$flatten\\genblk8.g_shift.u_prod.g_out[0].lut": {"type": "LUT4"},
        "$flatten\\u_backend.\\u_requant.$abc$2": {"type": "LUT2"},
        "$flatten\\u_backend.$abc$3": {"type": "LUT3"},
        "$flatten\\u_backend.ff": {"type": "FDRE"},
        "$flatten\\u_regs.$abc$4": {"type": "LUT5"},
        "$abc$5": {"type": "LUT1"},
        "$flatten\\u_nothing.$abc$6": {"type": "LUT6"},
    }}}}
    blocks = S.block_breakdown(flat, "conv_engine", instances)
    assert blocks["products"]["LUT"] == 2 and blocks["requant"]["LUT"] == 1
    assert blocks["backend"] == {"LUT": 1, "FF": 1, "LUTRAM": 0, "DSP48E1": 0}
    assert blocks["control"]["LUT"] == 3  # the register block, the top's own cell, an unknown path
    assert sum(b["LUT"] for b in blocks.values()) == 7


def test_shards_split_every_run_once_and_balance_their_cost():
    jobs = [("after", c, f, p) for p in S.DEFAULT_SETS for f in S.FORMATS for c in S.CORES
            if c not in S.PACKED or f == "dense"]
    for n in (1, 2, 3):
        shards = [S.shard_jobs(jobs, k, n) for k in range(1, n + 1)]
        assert sorted(j for s in shards for j in s) == sorted(jobs), f"{n} shards lose or repeat runs"
        costs = [sum(S.run_cost(j) for j in s) for s in shards]
        assert max(costs) - min(costs) <= max(S.run_cost(j) for j in jobs), f"unbalanced {costs}"
        assert shards == [S.shard_jobs(jobs, k, n) for k in range(1, n + 1)], "not deterministic"
    for bad in ("0/2", "3/2", "1", "a/b"):
        assert S.parse_shard(bad) is False


def _fake_run(core: str, pset: str, lut: int) -> dict:
    blocks = {b: {"LUT": 0, "FF": 0, "LUTRAM": 0, "DSP48E1": 0} for b in S.BLOCKS}
    blocks["products"]["LUT"] = lut
    lanes = S.PARAM_SETS[pset]["PAR_IN"] * S.PARAM_SETS[pset]["PAR_OUT"]
    return {"rtl": "after", "core": core, "format": "dense", "params": pset, "run": f"{core}-dense-{pset}",
            "seconds": 1.0, "lanes": lanes, "LUT": lut, "FF": 2 * lut, "LUTRAM": 0, "BRAM": 0, "DSP48E1": 0,
            "nodsp": S.CORES[core][1], "depth": 5, "blocks": blocks}


def test_merge_joins_shards_as_one_sweep(tmp_path: Path):
    meta = {"tool": "Yosys 0.23", "baseline": None, "overrides": {}, "formats": ["dense"],
            "param_sets": {p: S.PARAM_SETS[p] for p in ("p4x4", "p4x16")}, "jobs": 2, "wall_seconds": 10}
    core = "shift_pot4"
    for k, (pset, lut) in enumerate((("p4x4", 1600), ("p4x16", 4000)), start=1):
        (tmp_path / f"s{k}").mkdir()
        (tmp_path / f"s{k}" / "synth.json").write_text(json.dumps(
            meta | {"shard": f"{k}/2", "runs": [_fake_run(core, pset, lut)], "marginal": []}))
    out = tmp_path / "merged"
    assert S.merge([tmp_path / "s1", tmp_path / "s2"], out) == 0
    merged = json.loads((out / "synth.json").read_text())
    assert [r["params"] for r in merged["runs"]] == ["p4x4", "p4x16"]
    assert merged["merged_shards"] == ["1/2", "2/2"]
    # the marginal per lane needs both shards' runs: (4000 - 1600) / (64 - 16) lanes
    assert merged["marginal"] == [{"rtl": "after", "core": core, "format": "dense", "from": "p4x4",
                                   "to": "p4x16", "LUT_per_lane": 50.0, "FF_per_lane": 100.0}]
    other = json.loads((tmp_path / "s2" / "synth.json").read_text()) | {"tool": "Yosys 0.40"}
    (tmp_path / "s2" / "synth.json").write_text(json.dumps(other))
    assert S.merge([tmp_path / "s1", tmp_path / "s2"], tmp_path / "bad") == 2
    assert not (tmp_path / "bad" / "synth.json").exists()
