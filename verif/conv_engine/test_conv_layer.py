"""Whole conv8 layer (256->512, 28x28, real data) per core through the file-driven harness.

The harness clocks and resets itself, Python only waits for `done`; the output file is compared
in full with the vector set's acc (MODE=0) and out (MODE=1). Prints cycles, ideal, efficiency,
wall time, cycles/s.
"""

from __future__ import annotations

import os

import pytest
from common.layer_run import run_layer_cocotb
from common.sim_env import HARNESS_DIR, sim_tools_missing
from common.vector_sets import CORES, MAKE_VECTORS_HINT, resolve_layer_set

pytestmark = [pytest.mark.sim, pytest.mark.slow]

# (core, whole-layer vector set; its "-norefit" export if that is all there is): the registry's
# layer_runs (spec/cores.hjson): every arithmetic in every weight format (the set's pruning picks
# the core's FORMAT), the packed multiplier, and apot6 dense as the second SHIFT code format
# (its KRP / IKR datapaths run the tile regression).
LAYER_CASES = [(core.name, f"{core.scheme}-{fmt}") for core in CORES.values() for fmt in core.layer_runs]
# mode-major order: the MODE 1 run of a build comes a pass of builds after its MODE 0 run, so
# two xdist workers do not start both together and wait on the build lock (adjacent, they did).
# MODE 1 (requantized) runs on the dense sets only: the back end does not depend on the weight
# format, and the KRP / IKR tile regression runs it in both modes; CONV_LAYER_MODES=all (what
# `make sim-full` sets) runs every set in both modes.
ALL_MODES = os.environ.get("CONV_LAYER_MODES") == "all"
LAYER_MODE_CASES = [(core_name, set_name, mode) for mode in (0, 1) for core_name, set_name in LAYER_CASES
                    if mode == 0 or ALL_MODES or set_name.endswith("-dense")]


@pytest.mark.parametrize(("core_name", "set_name", "mode"), LAYER_MODE_CASES,
                         ids=[f"{c}-{s}-{m}" for c, s, m in LAYER_MODE_CASES])
def test_whole_layer(core_name: str, set_name: str, mode: int):
    why = sim_tools_missing()
    if why:
        pytest.skip(why)
    if not (HARNESS_DIR / "conv_harness.v").exists():
        pytest.skip("verif/harness/conv_harness.v does not exist yet")
    found = resolve_layer_set(set_name)
    if found is None:
        pytest.skip(f"vector set {set_name} missing: {MAKE_VECTORS_HINT}")
    r = run_layer_cocotb(core_name, found, mode)
    print(f"\n{core_name} {r['format']} {found} MODE={mode}: {r['outputs']} outputs bit-exact; "
          f"cycles {r['cycles']}, "
          f"ideal {r['ideal']}, efficiency {r['efficiency']:.4f}, wall {r['wall_s']:.1f} s, "
          f"{r['sim_cycles_per_s'] / 1e3:.0f} k simulated cycles/s")


def test_whole_layer_timeout():
    """The harness's own timeout (+timeout, the only one the cocotb run has) ends the run with
    done and error = 1: the test fails, naming the harness error, instead of hanging."""
    why = sim_tools_missing()
    if why:
        pytest.skip(why)
    core_name, set_name = LAYER_CASES[0]  # the build the first whole-layer case uses
    found = resolve_layer_set(set_name)
    if found is None:
        pytest.skip(f"vector set {set_name} missing: {MAKE_VECTORS_HINT}")
    with pytest.raises(AssertionError, match="cocotb tests failed") as failure:
        run_layer_cocotb(core_name, found, 0, timeout_cycles=2000)
    sim_log = (failure.value.args[0].rsplit("log ", 1)[1]).strip()
    assert "conv_harness: ERROR: timeout after 2000 cycles" in open(sim_log).read()
