"""scripts/vitis_hls.tcl and scripts/hls_vitis.sh, with and without Vitis HLS.

Without the tool the flow script runs under plain tclsh with tests/hls/mock_vitis.tcl, which
checks every Vitis command against its documented options (UG1399) and records it (name,
arguments, cwd) as a JSON line; the tests check the recorded sequence: part and clock per target,
top, sources and cflags, vector paths, steps, export. The script is copied into a throw-away
repository tree (empty hls sources, fake vector sets with a manifest.json) so neither hls/ nor
build/vectors/ of this checkout is needed, except by the test that feeds the emitted cflags to
g++ on the real sources. With vitis_hls on PATH, one real C simulation of a small tile runs too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pymodel import registry

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "vitis_hls.tcl"
DRIVER = REPO / "scripts" / "hls_vitis.sh"
MOCK = Path(__file__).resolve().parent / "mock_vitis.tcl"

# kernel -> its default scheme and code macros, and the weight formats: the registry's
# (spec/cores.hjson), which the Tcl reads through the generated scripts/cores.tcl
KERNELS = {arith: registry.hls_default(arith).scheme for arith in registry.arithmetics()}
FORMATS = registry.formats()
KERNEL_DEFINES = {arith: [f"-D{k}={v}" for k, v in registry.hls_default(arith).hls_defines().items()]
                  for arith in registry.arithmetics()}
CLOCK_TARGETS = REPO / "scripts" / "clock_targets.tcl"
CORES_TCL = REPO / "scripts" / "cores.tcl"
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
            if not k.startswith(("HLS_", "MOCK_VITIS_"))
            and k not in ("VECTORS", "PYTHON", "CI", "CONV_HLS_TCLARGS")}


def read_clock_targets() -> dict[str, tuple[str, str]]:
    """target -> (part, period) as scripts/clock_targets.tcl sets them (read by Tcl itself)."""
    tclsh = find_tclsh()
    if not tclsh:
        return {}
    script = (f"source {{{CLOCK_TARGETS}}}\n"
              "dict for {n t} $CLOCK_TARGETS {puts \"$n [dict get $t part] [dict get $t period_ns]\"}\n")
    out = subprocess.run([tclsh], input=script, capture_output=True, text=True, check=True).stdout
    return {n: (part, period) for n, part, period in (line.split() for line in out.splitlines())}


TARGETS = read_clock_targets()


def make_vector_set(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "manifest.json").write_text('{"format": "conv-vectors", "version": 1}\n')
    return path


@pytest.fixture
def fake_repo(tmp_path: Path) -> Path:
    """A repository tree with the scripts, empty kernel sources and fake vector sets laid out as
    `python -m pymodel export` does (whole layer and the cosim tile for every format)."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    for f in (SCRIPT, DRIVER, CLOCK_TARGETS, CORES_TCL):
        shutil.copy(f, repo / "scripts")
    (repo / "hls" / "tb").mkdir(parents=True)
    (repo / "hls" / "include").mkdir()
    for kernel, scheme in KERNELS.items():
        (repo / "hls" / f"conv_{kernel}.cpp").write_text("")
        (repo / "hls" / "tb" / f"tb_conv_{kernel}.cpp").write_text("")
        for fmt in FORMATS:
            make_vector_set(repo / "build" / "vectors" / f"{scheme}-{fmt}")
            make_vector_set(repo / "build" / "vectors" / f"{scheme}-{fmt}-{TILE}")
    return repo


def run_mock(repo: Path, *args: str, cwd: Path | None = None, env: dict | None = None,
             scratch: Path | None = None):
    """Run repo/scripts/vitis_hls.tcl under the mock from a directory that is not the repo; the
    mock's call log goes to `scratch` (default: beside the scratch repo; for this checkout a
    test's tmp_path, never the checkout's parent)."""
    tclsh = need_tclsh()
    cwd = cwd or scratch or repo.parent
    log = (scratch or repo.parent) / "vitis_calls.jsonl"
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
    _, calls = run_ok(fake_repo, "-kernel", kernel, "-format", fmt, "-steps", "csim,csynth,cosim,export")
    hls = fake_repo / "hls"
    assert only(calls, "set_top") == [[f"conv_{kernel}"]]
    design, tb = only(calls, "add_files")
    assert design[0] == str(hls / f"conv_{kernel}.cpp") and "-tb" not in design
    assert tb[:2] == ["-tb", str(hls / "tb" / f"tb_conv_{kernel}.cpp")]
    defines = [f"-DCONV_FORMAT={FORMATS[fmt]}", *KERNEL_DEFINES[kernel]]
    assert flag(design, "-cflags").split() == [f"-I{hls / 'include'}", *defines]
    assert flag(tb, "-cflags").split() == [f"-I{hls / 'include'}", f"-I{hls}", f"-I{hls / 'tb'}", *defines]
    vectors = fake_repo / "build" / "vectors"
    (csim,) = only(calls, "csim_design")
    assert flag(csim, "-argv") == str(vectors / f"{KERNELS[kernel]}-{fmt}")
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
    assert data["clock_ns"] == float(TARGETS["kv260"][1])
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


def test_export_flow_impl(fake_repo: Path):
    _, calls = run_ok(fake_repo, "-steps", "csynth,export", "-export_flow", "impl")
    assert flag(only(calls, "export_design")[0], "-flow") == "impl"
    _, calls = run_ok(fake_repo, "-steps", "csynth,export")
    assert "-flow" not in only(calls, "export_design")[0], "no Vivado run unless asked for"


def test_setup_failure_is_one_line(fake_repo: Path):
    """A device that is not installed fails set_part: one line naming the step, exit 1."""
    proc, calls = run_mock(fake_repo, "-steps", "csynth", env={"MOCK_VITIS_NO_PART": TARGETS["z7035"][0]})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    message = proc.stderr.strip()
    assert "\n" not in message and message.startswith("vitis_hls.tcl: solution failed:"), message
    assert "not installed" in message
    assert "csynth_design" not in [c["cmd"] for c in calls]


def test_options_from_environment_for_vitis_run(fake_repo: Path):
    """vitis-run has no -tclargs: with an empty argv the options come from CONV_HLS_TCLARGS."""
    _, calls = run_ok(fake_repo, env={"CONV_HLS_TCLARGS": "-kernel plut -format krp -steps csynth "
                                                          "-defines {CONV_PAR_IN=8 CONV_PAR_OUT=4}"})
    assert only(calls, "set_top") == [["conv_plut"]]
    assert "-DCONV_PAR_OUT=4" in flag(only(calls, "add_files")[0], "-cflags")
    proc, calls = run_mock(fake_repo, env={"CONV_HLS_TCLARGS": "-kernel {plut"})
    assert proc.returncode == 2 and "CONV_HLS_TCLARGS" in proc.stderr and not calls


# --- the mock itself is strict ------------------------------------------------------------------


MOCK_REJECTS = [
    ("report_dsp_usage", "invalid command name"),                        # not a Vitis HLS command
    ("open_project -bogus p", "unknown option '-bogus'"),
    ("open_project", "positional"),
    ("set_top conv_x", "no open project"),
    ("open_project p\nset_part xc7z035ffg676-2", "no open solution"),
    ("open_project p\nopen_solution -flow_target hls s", "-flow_target hls"),
    ("open_project p\nopen_solution s\ncreate_clock -name default", "-period is required"),
    ("open_project p\nopen_solution s\ncsim_design -argv", "needs a value"),
    ("open_project p\nopen_solution s\ncsim_design -compile_only", "unknown option"),
    ("open_project p\nopen_solution s\ncosim_design -rtl verilog", "not synthesized"),
    ("open_project p\nopen_solution s\ncsynth_design\nexport_design -format zip", "-format zip"),
    ("open_project p\nadd_files missing.cpp", "Cannot find source file"),
]


@pytest.mark.parametrize(("script", "needle"), MOCK_REJECTS, ids=[s.split("\n")[-1] for s, _ in MOCK_REJECTS])
def test_mock_rejects_what_the_tool_rejects(tmp_path: Path, script: str, needle: str):
    tclsh = need_tclsh()
    (tmp_path / "flow.tcl").write_text(script + "\nexit 0\n")
    proc = subprocess.run([tclsh, str(MOCK), str(tmp_path / "log.jsonl"), str(tmp_path / "flow.tcl")],
                          capture_output=True, text=True, cwd=tmp_path, env=clean_env(), timeout=60)
    assert proc.returncode != 0 and needle in proc.stderr, proc.stderr


# --- the emitted cflags compile the real sources ------------------------------------------------


def ap_types_include() -> Path:
    import sys  # noqa: PLC0415

    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import hls_csim  # noqa: PLC0415
        return hls_csim.ap_types_dir()
    except Exception as e:  # noqa: BLE001 - any set-up problem means: no headers here
        pytest.skip(f"no ap_types headers for g++: {e}")
    finally:
        sys.path.pop(0)


@pytest.mark.parametrize("kernel", sorted(KERNELS))
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_emitted_cflags_compile_with_gxx(tmp_path: Path, kernel: str, fmt: str):
    """The exact -cflags vitis_hls.tcl gives add_files (design and testbench; csim and cosim build
    with them) compile this checkout's sources: an include path the tool would miss fails here."""
    gxx = shutil.which("g++")
    if not gxx:
        pytest.skip("g++ not found")
    inc = ap_types_include()
    proc, calls = run_mock(REPO, "-kernel", kernel, "-format", fmt, "-steps", "csynth",
                           "-out", str(tmp_path / "o"), scratch=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for args in only(calls, "add_files"):
        source = next(a for a in args if a.endswith(".cpp"))
        cmd = [gxx, "-std=c++14", "-fsyntax-only", "-isystem", str(inc), *flag(args, "-cflags").split(),
               source]
        # -isystem, not the flags under test, supplies ap_int.h/hls_stream.h, as $XILINX_HLS/include does
        # in the tool; nothing else is added, so every project path must come from the emitted cflags.
        build = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=300)
        assert build.returncode == 0, f"{' '.join(cmd)}\n{build.stderr[-3000:]}"


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
    # without the cosim tile, cosim stops before any tool command; csim/csynth do not need it
    shutil.rmtree(fake_repo / "build" / "vectors" / f"int8-ikr-{TILE}")
    proc, calls = run_mock(fake_repo, "-kernel", "mult", "-format", "ikr")
    assert proc.returncode == 2 and f"int8-ikr-{TILE}" in proc.stderr and not calls
    run_ok(fake_repo, "-kernel", "mult", "-format", "ikr", "-steps", "csim,csynth")
    shutil.rmtree(fake_repo / "build" / "vectors" / "int8-ikr")
    proc, calls = run_mock(fake_repo, "-kernel", "mult", "-format", "ikr", "-steps", "csim")
    assert proc.returncode == 2 and "int8-ikr" in proc.stderr and "make vectors" in proc.stderr


# --- the make hls driver ----------------------------------------------------------------------


def path_without_vitis() -> str:
    return os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep)
                           if d and not any(os.access(os.path.join(d, t), os.X_OK)
                                            for t in ("vitis_hls", "vitis-run")))


def test_driver_skips_without_vitis(tmp_path: Path):
    bash = shutil.which("bash") or "/bin/bash"
    proc = subprocess.run([bash, str(DRIVER)], capture_output=True, text=True, cwd=tmp_path,
                          env={**clean_env(), "PATH": path_without_vitis()}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == SKIP_LINE
    assert proc.stderr == "", "outside CI the skip is one quiet line"


def test_driver_skip_is_loud_in_ci_and_fatal_when_required(tmp_path: Path):
    bash = shutil.which("bash") or "/bin/bash"
    env = {**clean_env(), "PATH": path_without_vitis(), "CI": "true"}
    proc = subprocess.run([bash, str(DRIVER)], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == SKIP_LINE
    assert "WARNING" in proc.stderr and "did NOT run" in proc.stderr, proc.stderr
    proc = subprocess.run([bash, str(DRIVER)], capture_output=True, text=True, cwd=tmp_path,
                          env={**env, "HLS_REQUIRE": "1"}, timeout=60)
    assert proc.returncode == 1 and "HLS_REQUIRE=1" in proc.stderr


def test_driver_expands_arrays_safely_under_set_u():
    """bash < 4.4 (macOS's 3.2, CentOS 7's 4.2) fails on "${a[@]}" of an empty array under set -u;
    every array expansion must be guarded as ${a[@]+"${a[@]}"} or sit behind a length check."""
    text = DRIVER.read_text()
    assert "set -euo pipefail" in text
    for name in ("extra",):
        bare = text.replace(f'${{{name}[@]+"${{{name}[@]}}"}}', "")
        assert f'"${{{name}[@]}}"' not in bare, f"unguarded expansion of the possibly empty array {name}"


@pytest.fixture
def fake_vitis(tmp_path: Path) -> Path:
    """A `vitis_hls` on PATH that runs `-f <script> [-tclargs <args>]` under the mock (-tclargs
    last: everything after it is the script's argv, as in the tool)."""
    tclsh = need_tclsh()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "vitis_hls"
    exe.write_text('#!/bin/sh\n[ "$1" = -f ] && [ -f "$2" ] || '
                   '{ echo "vitis_hls: usage: -f FILE [-tclargs ...]" >&2; exit 99; }\n'
                   f'script=$2; shift 2\nif [ $# -gt 0 ]; then [ "$1" = -tclargs ] || exit 99; shift; fi\n'
                   f'exec "{tclsh}" "{MOCK}" "$MOCK_VITIS_LOG" "$script" "$@"\n')
    exe.chmod(0o755)
    return bindir


@pytest.fixture
def fake_vitis_run(tmp_path: Path) -> Path:
    """A `vitis-run` (2024.2 on) on PATH: exactly `--mode hls --tcl <script>`, no script arguments."""
    tclsh = need_tclsh()
    bindir = tmp_path / "bin-run"
    bindir.mkdir()
    exe = bindir / "vitis-run"
    exe.write_text('#!/bin/sh\n[ $# -eq 4 ] && [ "$1" = --mode ] && [ "$2" = hls ] && [ "$3" = --tcl ] '
                   f'&& [ -f "$4" ] || {{ echo "vitis-run: bad arguments: $*" >&2; exit 99; }}\n'
                   f'exec "{tclsh}" "{MOCK}" "$MOCK_VITIS_LOG" "$4"\n')
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
    assert projects == [f"{k}_{f}_z7035" for k in KERNELS for f in FORMATS]
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


def test_driver_with_vitis_run(fake_repo: Path, fake_vitis_run: Path):
    """2024.2 on: `vitis-run --mode hls --tcl`, the options in CONV_HLS_TCLARGS; same flow."""
    proc, calls = run_driver(fake_repo, fake_vitis_run, HLS_KERNELS="shift", HLS_FORMATS="ikr",
                             HLS_DEFINES="CONV_PAR_IN=8 CONV_PAR_OUT=8")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [a[-1] for a in only(calls, "open_project")] == ["shift_ikr_z7035"]
    cflags = flag(only(calls, "add_files")[0], "-cflags").split()
    assert "-DCONV_FORMAT=2" in cflags and "-DCONV_PAR_IN=8" in cflags and "-DCONV_PAR_OUT=8" in cflags
    assert {c["cmd"] for c in calls if c["cmd"].endswith("_design")} == {"csim_design", "csynth_design"}


def test_driver_tool_choice(fake_repo: Path, fake_vitis: Path):
    proc, _ = run_driver(fake_repo, fake_vitis, HLS_TOOL="vitis-run")
    assert proc.returncode == 2 and "HLS_TOOL=vitis-run is not on PATH" in proc.stderr
    proc, _ = run_driver(fake_repo, fake_vitis, HLS_TOOL="vivado_hls")
    assert proc.returncode == 2 and "HLS_TOOL must be" in proc.stderr


def test_driver_without_csynth(fake_repo: Path, fake_vitis: Path):
    proc, _ = run_driver(fake_repo, fake_vitis, HLS_STEPS="csim", HLS_KERNELS="mult", HLS_FORMATS="dense")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no csynth summaries" in proc.stdout


# --- the real tool ------------------------------------------------------------------------------


@pytest.mark.vivado
def test_vitis_csim_tile(tmp_path: Path):
    """C simulation of the SHIFT kernel (pot4, KRP) on the 16x64x6x10 tile under Vitis HLS
    (vitis_hls -f, or vitis-run --mode hls --tcl with the options in CONV_HLS_TCLARGS)."""
    tool = shutil.which("vitis_hls") or shutil.which("vitis-run")
    if not tool:
        pytest.skip("VITIS HLS NOT RUN: neither vitis_hls nor vitis-run on PATH; "
                    "scripts/vitis_hls.tcl was tested only against tests/hls/mock_vitis.tcl")
    tile = REPO / "build" / "vectors" / f"pot4-krp-{TILE}"
    if not (tile / "manifest.json").is_file():
        pytest.skip(f"{tile} missing: run 'make vectors'")
    args = ["-kernel", "shift", "-format", "krp", "-steps", "csim", "-csim_vectors", str(tile),
            "-out", str(tmp_path)]
    if Path(tool).name == "vitis_hls":
        cmd, env = [tool, "-f", str(SCRIPT), "-tclargs", *args], os.environ
    else:
        cmd = [tool, "--mode", "hls", "--tcl", str(SCRIPT)]
        env = {**os.environ, "CONV_HLS_TCLARGS": " ".join(args)}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=3600)
    assert proc.returncode == 0, f"Vitis HLS csim failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
