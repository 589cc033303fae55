"""scripts/vitis_hls.tcl and scripts/hls_vitis.sh, with and without Vitis HLS.

Without the tool the flow script runs under plain tclsh with tests/hls/mock_vitis.tcl, which
records every Vitis command (name, arguments, cwd) as a JSON line; the tests check the recorded
sequence: part and clock per target, top, sources and cflags, vector paths, steps, export. The
script is copied into a throw-away repository tree (empty hls sources, fake vector sets with a
manifest.json) so neither hls/ nor build/vectors/ of this checkout is needed. With vitis_hls on
PATH, one real C simulation of a small tile runs too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "vitis_hls.tcl"
DRIVER = REPO / "scripts" / "hls_vitis.sh"
MOCK = Path(__file__).resolve().parent / "mock_vitis.tcl"

KERNELS = {"mult": "int8", "shift": "pot4", "plut": "ios4"}
FORMATS = {"dense": 0, "krp": 1, "ikr": 2}
KERNEL_DEFINES = {
    "mult": ["-DCONV_W_BITS=8"],
    "shift": ["-DCONV_W_BITS=4", "-DCONV_EXP1_BITS=3", "-DCONV_EXP2_BITS=0"],
    "plut": ["-DCONV_W_BITS=4"],
}
TARGETS = {"z7035": ("xc7z035ffg676-2", "5.0"), "kv260": ("xck26-sfvc784-2LV-c", "3.333")}
TILE = "t16x64x6x10"
SKIP_LINE = "hls: skipped: vitis_hls not on PATH (install Vitis HLS and source its settings64.sh)"


def find_tclsh() -> str | None:
    for name in ("tclsh", "tclsh8.6", "tclsh8.5"):
        exe = shutil.which(name)
        if exe:
            return exe
    return None


def need_tclsh() -> str:
    exe = find_tclsh()
    if not exe:
        pytest.skip("tclsh not found: install Debian's tcl (apt-get install tcl) to test the Vitis Tcl flow")
    return exe


def clean_env() -> dict[str, str]:
    """The environment without the knobs of the driver and the mock, so a user's settings do not leak in."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("HLS_", "MOCK_VITIS_")) and k not in ("VECTORS", "PYTHON")}


def make_vector_set(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "manifest.json").write_text('{"format": "conv-vectors", "version": 1}\n')
    return path


@pytest.fixture
def fake_repo(tmp_path: Path) -> Path:
    """A repository tree with the two scripts, empty kernel sources and fake vector sets laid out
    as `python -m pymodel export` does (whole layer for every format, tiles for dense/krp only)."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, repo / "scripts")
    shutil.copy(DRIVER, repo / "scripts")
    (repo / "hls" / "tb").mkdir(parents=True)
    (repo / "hls" / "include").mkdir()
    for kernel, scheme in KERNELS.items():
        (repo / "hls" / f"conv_{kernel}.cpp").write_text("")
        (repo / "hls" / "tb" / f"tb_conv_{kernel}.cpp").write_text("")
        for fmt in FORMATS:
            make_vector_set(repo / "build" / "vectors" / f"{scheme}-{fmt}")
            if fmt != "ikr":
                make_vector_set(repo / "build" / "vectors" / f"{scheme}-{fmt}-{TILE}")
    return repo


def run_mock(repo: Path, *args: str, cwd: Path | None = None, env: dict | None = None):
    """Run repo/scripts/vitis_hls.tcl under the mock from a directory that is not the repo."""
    tclsh = need_tclsh()
    cwd = cwd or repo.parent
    log = repo.parent / "vitis_calls.jsonl"
    log.unlink(missing_ok=True)
    proc = subprocess.run([tclsh, str(MOCK), str(log), str(repo / "scripts" / "vitis_hls.tcl"), *args],
                          capture_output=True, text=True, cwd=cwd, env={**clean_env(), **(env or {})},
                          timeout=60)
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return proc, calls


def only(calls: list[dict], cmd: str) -> list[list[str]]:
    return [c["args"] for c in calls if c["cmd"] == cmd]


def flag(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def run_ok(repo: Path, *args: str, **kw):
    proc, calls = run_mock(repo, *args, **kw)
    assert proc.returncode == 0, f"vitis_hls.tcl {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc, calls


# --- the recorded command sequence ---------------------------------------------------------------


def test_default_sequence(fake_repo: Path):
    proc, calls = run_ok(fake_repo)
    assert [c["cmd"] for c in calls] == [
        "open_project", "set_top", "add_files", "add_files", "open_solution", "set_part", "create_clock",
        "csim_design", "csynth_design", "cosim_design", "export_design", "close_project",
    ]
    out = fake_repo / "build" / "hls" / "vitis"
    assert {c["cwd"] for c in calls} == {str(out)}, "the project must be created under <repo>/build/hls/vitis"
    assert only(calls, "open_project") == [["-reset", "shift_dense_z7035"]]
    assert only(calls, "open_solution") == [["-flow_target", "vivado", "-reset", "sol_vivado"]]
    assert only(calls, "set_top") == [["conv_shift"]]


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_target_part_and_clock(fake_repo: Path, target: str):
    part, clock = TARGETS[target]
    _, calls = run_ok(fake_repo, "-target", target, "-steps", "csynth")
    assert only(calls, "set_part") == [[part]]
    assert only(calls, "create_clock") == [["-period", clock, "-name", "default"]]
    assert only(calls, "open_project") == [["-reset", f"shift_dense_{target}"]]


def test_clock_override(fake_repo: Path):
    _, calls = run_ok(fake_repo, "-target", "kv260", "-clock", "2.5", "-steps", "csynth")
    assert only(calls, "set_part") == [[TARGETS["kv260"][0]]]
    assert only(calls, "create_clock") == [["-period", "2.5", "-name", "default"]]


@pytest.mark.parametrize("kernel", sorted(KERNELS))
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_sources_cflags_and_vectors(fake_repo: Path, kernel: str, fmt: str):
    steps = "csim,csynth,cosim,export" if fmt != "ikr" else "csim,csynth,export"  # no ikr tile exported
    _, calls = run_ok(fake_repo, "-kernel", kernel, "-format", fmt, "-steps", steps)
    hls = fake_repo / "hls"
    assert only(calls, "set_top") == [[f"conv_{kernel}"]]
    design, tb = only(calls, "add_files")
    assert design[0] == str(hls / f"conv_{kernel}.cpp") and "-tb" not in design
    assert tb[:2] == ["-tb", str(hls / "tb" / f"tb_conv_{kernel}.cpp")]
    defines = [f"-DCONV_FORMAT={FORMATS[fmt]}", *KERNEL_DEFINES[kernel]]
    assert flag(design, "-cflags").split() == [f"-I{hls / 'include'}", *defines]
    assert flag(tb, "-cflags").split() == [f"-I{hls / 'include'}", f"-I{hls / 'tb'}", *defines]
    vectors = fake_repo / "build" / "vectors"
    (csim,) = only(calls, "csim_design")
    assert flag(csim, "-argv") == str(vectors / f"{KERNELS[kernel]}-{fmt}")
    if fmt != "ikr":
        (cosim,) = only(calls, "cosim_design")
        assert flag(cosim, "-argv") == str(vectors / f"{KERNELS[kernel]}-{fmt}-{TILE}")
        assert flag(cosim, "-rtl") == "verilog"


def test_user_defines_override_kernel_defaults(fake_repo: Path):
    _, calls = run_ok(fake_repo, "-kernel", "shift", "-format", "krp", "-steps", "csynth",
                      "-defines", "CONV_PAR_IN=8  CONV_W_BITS=6 CONV_EXP1_BITS=2 CONV_EXP2_BITS=2 "
                      "CONV_PAR_OUT=4")
    for args in only(calls, "add_files"):
        flags = flag(args, "-cflags").split()
        dflags = [f for f in flags if f.startswith("-D")]
        assert dflags == ["-DCONV_FORMAT=1", "-DCONV_W_BITS=6", "-DCONV_EXP1_BITS=2", "-DCONV_EXP2_BITS=2",
                          "-DCONV_PAR_IN=8", "-DCONV_PAR_OUT=4"], flags


def test_only_csim(fake_repo: Path):
    _, calls = run_ok(fake_repo, "-steps", "csim")
    cmds = [c["cmd"] for c in calls]
    assert "csim_design" in cmds
    assert not {"csynth_design", "cosim_design", "export_design"} & set(cmds)
    # a csim-only run must not wipe an existing synthesized solution
    assert only(calls, "open_solution") == [["-flow_target", "vivado", "sol_vivado"]]
    assert not (fake_repo / "build" / "hls" / "vitis" / "shift_dense_z7035_csynth.json").exists()


def test_steps_run_in_canonical_order(fake_repo: Path):
    _, calls = run_ok(fake_repo, "-steps", "export,csim,csynth")
    steps = [c["cmd"] for c in calls if c["cmd"].endswith("_design")]
    assert steps == ["csim_design", "csynth_design", "export_design"]


def test_explicit_vector_dirs_become_absolute(fake_repo: Path, tmp_path: Path):
    work = tmp_path / "work"
    csim = make_vector_set(work / "sets" / "my-layer")
    cosim = make_vector_set(work / "sets" / "my-tile")
    _, calls = run_ok(fake_repo, "-steps", "csim,csynth,cosim", "-csim_vectors", "sets/my-layer",
                      "-cosim_vectors", "./sets/../sets/my-tile", cwd=work)
    assert flag(only(calls, "csim_design")[0], "-argv") == str(csim)
    assert flag(only(calls, "cosim_design")[0], "-argv") == str(cosim)


def test_vectors_root_and_out(fake_repo: Path, tmp_path: Path):
    root = tmp_path / "vec"
    make_vector_set(root / "ios4-krp")
    _, calls = run_ok(fake_repo, "-kernel", "plut", "-format", "krp", "-steps", "csim",
                      "-vectors", str(root), "-out", str(tmp_path / "o"))
    assert flag(only(calls, "csim_design")[0], "-argv") == str(root / "ios4-krp")
    assert {c["cwd"] for c in calls} == {str(tmp_path / "o")}
    assert only(calls, "open_project") == [["-reset", "plut_krp_z7035"]]


def test_export_options(fake_repo: Path):
    _, calls = run_ok(fake_repo, "-kernel", "mult", "-steps", "csynth,export")
    (export,) = only(calls, "export_design")
    assert flag(export, "-format") == "ip_catalog"
    assert flag(export, "-rtl") == "verilog"
    for opt in ("-vendor", "-library", "-version", "-description"):
        assert flag(export, opt), f"export_design {opt} is empty"
    assert flag(export, "-version").count(".") == 1, "IP version must be major.minor"


def test_vitis_flow_target(fake_repo: Path):
    _, calls = run_ok(fake_repo, "-flow", "vitis", "-steps", "csynth,export")
    assert only(calls, "open_solution") == [["-flow_target", "vitis", "-reset", "sol_vitis"]]
    assert flag(only(calls, "export_design")[0], "-format") == "xo"


def test_csynth_summary_json(fake_repo: Path):
    proc, _ = run_ok(fake_repo, "-kernel", "plut", "-format", "ikr", "-target", "kv260", "-steps", "csynth")
    out = fake_repo / "build" / "hls" / "vitis"
    rpt = out / "plut_ikr_kv260" / "sol_vivado" / "syn" / "report" / "conv_plut_csynth.rpt"
    assert str(rpt) in proc.stdout
    line = [s for s in proc.stdout.splitlines() if s.startswith("vitis_hls.tcl: csynth plut_ikr_kv260:")]
    assert len(line) == 1 and "1234..5678 cycles" in line[0] and "LUT 7890" in line[0], proc.stdout
    data = json.loads((out / "plut_ikr_kv260_csynth.json").read_text())
    assert data["project"] == "plut_ikr_kv260" and data["part"] == TARGETS["kv260"][0]
    assert data["clock_ns"] == 3.333
    assert (data["latency_best"], data["latency_worst"], data["interval_max"]) == (1234, 5678, None)
    assert (data["BRAM_18K"], data["DSP"], data["FF"], data["LUT"]) == (12, 0, 3456, 7890)
    assert data["report"] == str(rpt)


def test_cosim_reuses_existing_solution(fake_repo: Path):
    proc, calls = run_mock(fake_repo, "-steps", "cosim")
    assert proc.returncode == 2 and "needs csynth" in proc.stderr and not calls
    run_ok(fake_repo, "-steps", "csynth")
    _, calls = run_ok(fake_repo, "-steps", "cosim,export")
    assert only(calls, "open_solution") == [["-flow_target", "vivado", "sol_vivado"]]
    assert [c["cmd"] for c in calls if c["cmd"].endswith("_design")] == ["cosim_design", "export_design"]


def test_tool_failure_stops_the_run(fake_repo: Path):
    proc, calls = run_mock(fake_repo, env={"MOCK_VITIS_FAIL": "csim_design"})
    assert proc.returncode == 1
    assert "csim failed" in proc.stderr
    cmds = [c["cmd"] for c in calls]
    assert "csynth_design" not in cmds and cmds[-1] == "close_project"


# --- bad input: exit 2, one line naming the problem, no Vitis command run ------------------------


BAD = [
    (["-kernel", "conv"], "-kernel"),
    (["-format", "sparse"], "-format"),
    (["-target", "zcu104"], "-target"),
    (["-flow", "hls"], "-flow"),
    (["-steps", "csim,impl"], "impl"),
    (["-steps", ""], "-steps"),
    (["-clock", "fast"], "-clock"),
    (["-clock", "0"], "-clock"),
    (["-defines", "CONV_PAR_IN"], "CONV_PAR_IN"),
    (["-defines", "9LANES=4"], "9LANES=4"),
    (["-defines", "CONV_PAR_IN=$(rm)"], "CONV_PAR_IN"),
    (["-defines", "CONV_FORMAT=2"], "CONV_FORMAT"),
    (["-bogus", "1"], "-bogus"),
    (["-kernel"], "-kernel"),
    (["-csim_vectors", "/nonexistent/int8-dense"], "/nonexistent/int8-dense"),
]


@pytest.mark.parametrize(("args", "needle"), BAD, ids=[" ".join(a) or "empty" for a, _ in BAD])
def test_bad_input(fake_repo: Path, args: list[str], needle: str):
    proc, calls = run_mock(fake_repo, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = proc.stderr.strip()
    assert "\n" not in message and message.startswith("vitis_hls.tcl: error:"), message
    assert needle in message, message
    assert not calls, "a Vitis command ran before the input was checked"


def test_vector_dir_without_manifest(fake_repo: Path, tmp_path: Path):
    (tmp_path / "not-a-set").mkdir()
    proc, calls = run_mock(fake_repo, "-steps", "csim", "-csim_vectors", str(tmp_path / "not-a-set"))
    assert proc.returncode == 2 and "manifest.json" in proc.stderr and not calls


def test_missing_default_vector_set(fake_repo: Path):
    # the exporter writes no IKR tiles: cosim of ikr needs -cosim_vectors, csim/csynth do not
    proc, calls = run_mock(fake_repo, "-kernel", "mult", "-format", "ikr")
    assert proc.returncode == 2 and f"int8-ikr-{TILE}" in proc.stderr and not calls
    run_ok(fake_repo, "-kernel", "mult", "-format", "ikr", "-steps", "csim,csynth")
    shutil.rmtree(fake_repo / "build" / "vectors" / "int8-ikr")
    proc, calls = run_mock(fake_repo, "-kernel", "mult", "-format", "ikr", "-steps", "csim")
    assert proc.returncode == 2 and "int8-ikr" in proc.stderr and "make vectors" in proc.stderr


# --- the make hls driver ----------------------------------------------------------------------


def path_without_vitis() -> str:
    return os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep)
                           if d and not os.access(os.path.join(d, "vitis_hls"), os.X_OK))


def test_driver_skips_without_vitis(tmp_path: Path):
    bash = shutil.which("bash") or "/bin/bash"
    proc = subprocess.run([bash, str(DRIVER)], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PATH": path_without_vitis()}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == SKIP_LINE


@pytest.fixture
def fake_vitis(tmp_path: Path) -> Path:
    """A `vitis_hls` on PATH that runs `-f <script> -tclargs <args>` under the mock."""
    tclsh = need_tclsh()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "vitis_hls"
    exe.write_text(f'#!/bin/sh\n[ "$1" = -f ] && [ "$3" = -tclargs ] || exit 99\nscript=$2; shift 3\n'
                   f'exec "{tclsh}" "{MOCK}" "$MOCK_VITIS_LOG" "$script" "$@"\n')
    exe.chmod(0o755)
    return bindir


def run_driver(repo: Path, bindir: Path, **env: str):
    log = repo.parent / "driver_calls.jsonl"
    log.unlink(missing_ok=True)
    full_env = {**clean_env(), "PATH": f"{bindir}{os.pathsep}{path_without_vitis()}",
                "MOCK_VITIS_LOG": str(log), "PYTHON": shutil.which("python3") or "python3", **env}
    proc = subprocess.run(["bash", str(repo / "scripts" / "hls_vitis.sh")], capture_output=True, text=True,
                          cwd=repo, env=full_env, timeout=300)
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return proc, calls


def test_driver_runs_every_kernel_and_format(fake_repo: Path, fake_vitis: Path):
    proc, calls = run_driver(fake_repo, fake_vitis)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    projects = [a[-1] for a in only(calls, "open_project")]
    assert projects == [f"{k}_{f}_z7035" for k in ("mult", "shift", "plut") for f in ("dense", "krp", "ikr")]
    steps = {c["cmd"] for c in calls if c["cmd"].endswith("_design")}
    assert steps == {"csim_design", "csynth_design"}, "HLS_STEPS defaults to csim,csynth"
    table = proc.stdout[proc.stdout.index("csynth summary"):].splitlines()[1:]
    assert table[0].split()[:2] == ["project", "clock_ns"]
    rows = [r.split() for r in table[2:]]
    assert [r[0] for r in rows] == projects and all(r[-1] == "7890" for r in rows), proc.stdout


def test_driver_targets_steps_and_defines(fake_repo: Path, fake_vitis: Path):
    proc, calls = run_driver(fake_repo, fake_vitis, HLS_TARGETS="kv260", HLS_KERNELS="shift",
                             HLS_FORMATS="krp", HLS_STEPS="csim,csynth,cosim,export",
                             HLS_DEFINES="CONV_PAR_IN=8 CONV_PAR_OUT=8")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [a[-1] for a in only(calls, "open_project")] == ["shift_krp_kv260"]
    assert only(calls, "set_part") == [[TARGETS["kv260"][0]]]
    assert [c["cmd"] for c in calls if c["cmd"].endswith("_design")] == [
        "csim_design", "csynth_design", "cosim_design", "export_design"]
    assert "-DCONV_PAR_OUT=8" in flag(only(calls, "add_files")[0], "-cflags")


def test_driver_stops_at_first_failure(fake_repo: Path, fake_vitis: Path):
    proc, calls = run_driver(fake_repo, fake_vitis, MOCK_VITIS_FAIL="csynth_design")
    assert proc.returncode != 0
    assert "hls: FAILED: mult_dense_z7035" in proc.stdout
    assert [a[-1] for a in only(calls, "open_project")] == ["mult_dense_z7035"]


def test_driver_without_csynth(fake_repo: Path, fake_vitis: Path):
    proc, _ = run_driver(fake_repo, fake_vitis, HLS_STEPS="csim", HLS_KERNELS="mult", HLS_FORMATS="dense")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no csynth summaries" in proc.stdout


# --- the real tool ------------------------------------------------------------------------------


@pytest.mark.vivado
def test_vitis_csim_tile(tmp_path: Path):
    """C simulation of the SHIFT kernel (pot4, KRP) on the 16x64x6x10 tile under Vitis HLS."""
    if not shutil.which("vitis_hls"):
        pytest.skip("vitis_hls not on PATH: Vitis HLS flow not run")
    tile = REPO / "build" / "vectors" / f"pot4-krp-{TILE}"
    if not (tile / "manifest.json").is_file():
        pytest.skip(f"{tile} missing: run 'make vectors'")
    proc = subprocess.run(["vitis_hls", "-f", str(SCRIPT), "-tclargs", "-kernel", "shift", "-format", "krp",
                           "-steps", "csim", "-csim_vectors", str(tile), "-out", str(tmp_path)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=3600)
    assert proc.returncode == 0, f"Vitis HLS csim failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
