"""pytest runners: every core x weight format x HDL parameter set, each in its own Verilator build.

One model is built per (core, format, A_BITS, parameter set) and reused by the three test groups
(each a separate simulator run, so xdist can spread them). Dense cores run at p4x4 and p8x2
(MULT int8 also at p16x16); the KRP and IKR cores each at one of the two small ones,
alternating between cores (every core's 16x16 datapath runs the whole conv8 layer in
test_conv_layer.py), so the regression's time goes to formats, not repetition.
Seeds for the stall tests: CONV_SIM_SEEDS (comma-separated, default 1,2,3).
Waves: WAVES=1 (FST, in build/sim/<name>-fst/runs/<group>/).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict

import pytest
from common.runner import build_model, run_cocotb
from common.sim_env import RTL_DIR, sim_tools_missing
from common.streams import CoreShape
from common.vector_sets import (
    CORES,
    IKR_K,
    IKR_P,
    dims,
    load_set,
    manifests,
    stress_sets,
    tile_sets,
    vectors_missing,
)

from pymodel import registry

pytestmark = pytest.mark.sim

# (PAR_IN, PAR_OUT, H_MAX, W_MAX, CIN_MAX, COUT_MAX): small/unbalanced/wide; maxima differ so the
# limit checks and address arithmetic see several shapes.
PARAM_SETS = {
    "p4x4": (4, 4, 16, 16, 64, 64),
    "p8x2": (8, 2, 12, 20, 128, 64),
    "p16x16": (16, 16, 28, 28, 256, 512),
}
TEST_GROUPS = {
    "clean": ["test_clean", "test_info", "test_stress"],
    "stalls": ["test_random_stalls"],
    # the error paths run in the control group: a group is a simulator start (~10 s), the tests ~2 s
    "control": ["test_reset_mid_stream", "test_back_to_back", "test_config_errors",
                "test_frame_errors", "test_frame_error_cleared_by_rejected_start"],
}


def group_tests(group: str, arith: str, fmt: str) -> list[str]:
    """The cocotb tests of `group` that apply to this core: level errors on a unit that reads the
    level descriptors (PLUT), index errors on KRP / IKR cores."""
    tests = list(TEST_GROUPS[group])
    if group == "control":
        tests += ["test_level_errors"] if registry.arithmetics()[arith].reads_levels else []
        tests += ["test_index_errors"] if fmt != "dense" else []
    return tests
PRUNED_PARAM_SETS = ("p4x4", "p8x2")
MAX_SETS_PER_BUILD = 2  # the smallest fitting set + the smallest of another shape keep it short


def builds() -> list[tuple[str, str, str]]:
    """(core, format, parameter set) of every regression build: dense at every parameter set;
    KRP and IKR each at one small set, alternating between cores, so every (pruned format,
    parameter set) pair is built by two or three cores and no build repeats another's shape."""
    found = []
    for n, (core, kind) in enumerate(CORES.items()):
        for fmt in kind.formats:
            # the packed multiplier and the symmetric PLUT bank (each a variant of another core's
            # unit): one small set (their whole layers run at 16x16)
            if kind.mult_pack or (kind.plut_sym and fmt == "dense"):
                found.append((core, fmt, PRUNED_PARAM_SETS[n % len(PRUNED_PARAM_SETS)]))
            elif fmt == "dense":  # 16x16 once (MULT int8): the whole-layer runs build every core at 16x16
                found += [(core, fmt, ps) for ps in PARAM_SETS if ps != "p16x16" or n == 0]
            else:
                found.append((core, fmt, PRUNED_PARAM_SETS[(n + (fmt == "ikr")) % len(PRUNED_PARAM_SETS)]))
    return found


def seeds() -> list[int]:
    return [int(s) for s in os.environ.get("CONV_SIM_SEEDS", "1,2,3").split(",") if s.strip()]


def rtl_sources(toplevel: str) -> list:
    sources = sorted(RTL_DIR.glob("*.v")) + sorted(RTL_DIR.glob("*.vlt"))  # lint.vlt: the RTL's waivers
    if not any(p.stem == toplevel for p in sources):
        pytest.skip(f"{RTL_DIR}/{toplevel}.v does not exist yet")
    return sources


def sets_for(core_name: str, fmt: str, shape: tuple[int, ...]) -> dict[int, list[str]]:
    """a_bits -> names of tile vector sets this core + format + parameter set can run."""
    par_in, par_out, h_max, w_max, cin_max, cout_max = shape
    by_a_bits: dict[int, list[str]] = {}
    for name in tile_sets(CORES[core_name], fmt):
        cin, cout, h, w = dims(load_set(name))
        if (cin % par_in == 0 and cout % par_out == 0 and cin <= cin_max and cout <= cout_max
                and h <= h_max and w <= w_max):
            by_a_bits.setdefault(int(manifests()[name]["a_bits"]), []).append(name)
    return {a: pick_sets(names) for a, names in by_a_bits.items()}


def pick_sets(names: list[str]) -> list[str]:
    """The smallest set, then the smallest one of other dimensions (back-to-back needs both)."""
    picked = names[:1]
    for name in names[1:]:
        other_shape = all(dims(load_set(name)) != dims(load_set(p)) for p in picked)
        if len(picked) < MAX_SETS_PER_BUILD and other_shape:
            picked.append(name)
    return picked


# group-major order: a build's groups stand one pass of builds apart, so two xdist workers do
# not start two groups of one build together and wait on its build lock (adjacent, they did)
CORE_CASES = [(*build, group) for group in TEST_GROUPS for build in builds()]


@pytest.mark.parametrize(("core_name", "fmt", "param_set", "group"), CORE_CASES,
                         ids=["-".join(case) for case in CORE_CASES])
def test_conv_core(core_name: str, fmt: str, param_set: str, group: str):
    why = sim_tools_missing() or vectors_missing()
    if why:
        pytest.skip(why)
    core = CORES[core_name]
    shape = PARAM_SETS[param_set]
    by_a_bits = sets_for(core_name, fmt, shape)
    if not by_a_bits:
        pytest.skip(f"no {core_name} {fmt} tile vector set fits {param_set} {shape}; run `make vectors`")
    sources = rtl_sources(core.toplevel)
    par_in, par_out, h_max, w_max, cin_max, cout_max = shape
    for a_bits, names in sorted(by_a_bits.items()):
        hdl = CoreShape(par_in, par_out, a_bits, core.w_bits, h_max, w_max, cin_max, cout_max,
                        fmt, IKR_K, IKR_P)
        parameters = hdl.hdl_parameters() | core.hdl_parameters()
        build = build_model(f"{core_name}-{fmt}-a{a_bits}-{param_set}", core.toplevel, sources, parameters)
        stress = [n for n in stress_sets(core, fmt) if int(manifests()[n]["a_bits"]) == a_bits]
        tests = group_tests(group, core.arith, fmt)
        if not stress:
            tests = [t for t in tests if t != "test_stress"]
        config = {"core": asdict(hdl), "sets": names, "seeds": seeds(),
                  "max_abs_weight": core.max_abs_weight(), "core_name": core_name,
                  "stress_sets": stress, "level_exp_max": core.level_exp_max, "plut_sym": core.plut_sym}
        run_cocotb(build, core.toplevel, "conv_engine.cocotb_conv_engine", run_name=group,
                   testcase=tests, env={"CONV_TB_CONFIG": json.dumps(config)})
