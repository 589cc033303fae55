"""Post-synthesis netlist simulation (scripts/netlist_sim.py): one small core end to end.

The Yosys xc7 netlist of SHIFT pot4 dense at p4x4 runs the RTL regression's cocotb test_clean
(both output modes) on the smallest tile vector set and must be bit-exact. Then the comparison is
shown to bite on the same build: the same netlist fed another arithmetic's tile (int4 codes, whose
expected values a pot4 datapath does not compute) must be reported as mismatched, with the first
mismatching pixels named. The netlist and model are built under build/ (reused by a second run).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import netlist_sim  # noqa: E402

pytestmark = pytest.mark.synth

CORE, FMT, PSET = "shift_pot4", "dense", "p4x4"


@pytest.fixture(scope="module")
def yosys() -> str:
    why = netlist_sim.tools_missing()
    if why:
        pytest.skip(why)
    import synth_yosys

    return synth_yosys.find_yosys()


@pytest.fixture(scope="module")
def clean_run(yosys):
    return netlist_sim.run_one(yosys, CORE, FMT, PSET, netlist_sim.OUT.resolve())


def test_netlist_bit_exact(clean_run):
    r = clean_run
    assert r["tile_sets"], "no tile set ran"
    assert r["modes"] == [0, 1]
    assert r["bit_exact"], f"netlist not bit-exact: {r['failure']}: {r['first_mismatches']}"


def test_wrong_function_is_caught(yosys, clean_run):
    """The pot4 netlist against int4 tile data: the same codes mean other weights, so the expected
    accumulators differ and the comparison must fail, naming mismatching pixels."""
    from common.vector_sets import manifests

    other = clean_run["tile_sets"][0].replace("pot4-", "int4-", 1)
    if other not in manifests():
        pytest.skip(f"vector set {other} missing (make vectors)")
    r = netlist_sim.run_one(yosys, CORE, FMT, PSET, netlist_sim.OUT.resolve(), tile_sets=[other])
    assert r["build_dir"] == clean_run["build_dir"], "the fault run should reuse the clean run's model"
    assert not r["bit_exact"]
    assert any("expected" in m and "got" in m for m in r["first_mismatches"]), r


def test_bad_option_exits_2(capsys):
    assert netlist_sim.main(["--cores", "no_such_core"]) == 2
    err = capsys.readouterr().err
    assert "no_such_core" in err and len(err.strip().splitlines()) == 1
