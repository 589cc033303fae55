"""scripts/vivado_synth.tcl and `make vivado`, without Vivado.

The script runs under plain tclsh with tests/mock_vivado.tcl, which checks every Vivado command
against its documented options (UG835), rejects commands Vivado does not have, checks the
generated XDC and the -generic names against the RTL, and records each call as a JSON line. The
tests check the recorded flow, the summary it writes and its exit codes. The part and clock come
from scripts/clock_targets.tcl (read by Tcl here too), the table the HLS flow shares.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "vivado_synth.tcl"
MOCK = Path(__file__).resolve().parent / "mock_vivado.tcl"
CLOCK_TARGETS = REPO / "scripts" / "clock_targets.tcl"


def need_tclsh() -> str:
    for name in ("tclsh", "tclsh8.6", "tclsh8.5"):
        exe = shutil.which(name)
        if exe:
            return exe
    pytest.skip("tclsh not found: install Debian's tcl (apt-get install tcl) to test the Vivado Tcl flow")


def clock_targets() -> dict[str, dict[str, str]]:
    script = (f"source {{{CLOCK_TARGETS}}}\n"
              "dict for {n t} $CLOCK_TARGETS {puts \"$n [dict get $t part] [dict get $t period_ns] "
              "[dict get $t clk_src]\"}\n")
    out = subprocess.run([need_tclsh()], input=script, capture_output=True, text=True, check=True).stdout
    rows = (ln.split() for ln in out.splitlines())
    return {n: {"part": p, "period": t, "clk_src": c} for n, p, t, c in rows}


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_VIVADO_")}
    return {**env, **extra}


def run_mock(tmp_path: Path, *args: str, env: dict | None = None):
    log = tmp_path / "vivado_calls.jsonl"
    log.unlink(missing_ok=True)
    proc = subprocess.run([need_tclsh(), str(MOCK), str(log), str(SCRIPT), *args], capture_output=True,
                          text=True, cwd=tmp_path, env=clean_env(**(env or {})), timeout=120)
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return proc, calls


def only(calls: list[dict], cmd: str) -> list[list[str]]:
    return [c["args"] for c in calls if c["cmd"] == cmd]


def flag(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


@pytest.mark.parametrize("target", ["z7035", "kv260"])
def test_synthesis_flow(tmp_path: Path, target: str):
    t = clock_targets()[target]
    proc, calls = run_mock(tmp_path, "shift", "-target", target, "-generic", "PAR_IN=8",
                           "-out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cmds = [c["cmd"] for c in calls]
    assert "report_dsp_usage" not in cmds and "route_design" not in cmds
    (synth,) = only(calls, "synth_design")
    assert flag(synth, "-top") == "conv_engine" and flag(synth, "-part") == t["part"]
    generics = [synth[k + 1] for k, a in enumerate(synth) if a == "-generic"]
    assert flag(synth, "-mode") == "out_of_context" and generics == ["ARITH=1", "FORMAT=0", "PAR_IN=8"]
    assert flag(synth, "-include_dirs") == str(REPO / "rtl"), "conv_prod_info.vh lives in rtl/"
    run_dir = tmp_path / "o" / f"shift_{target}"
    xdc = (run_dir / "clock.xdc").read_text()
    assert f"-period {t['period']} " in xdc
    assert f"set_property HD.CLK_SRC {t['clk_src']} [get_ports clk]" in xdc, "UG905 HD.CLK_SRC"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["stage"] == "synth" and summary["timing_is_estimate"] is True
    assert summary["period_ns"] == float(t["period"]) and summary["part"] == t["part"]
    assert summary["timing_met"] is True and summary["wns_ns"] == 0.25
    assert (summary["LUT"], summary["FF"], summary["DSP"], summary["BRAM_tiles"]) == (5321, 6789, 256, 4.5)
    line = next(ln for ln in proc.stdout.splitlines() if "WNS" in ln)
    assert "post-synthesis estimate" in line
    for rpt in ("utilization_synth.rpt", "utilization_synth_hier.rpt", "timing_synth.rpt", "ram_synth.rpt"):
        assert (run_dir / rpt).is_file(), rpt


def test_implementation_flow(tmp_path: Path):
    proc, calls = run_mock(tmp_path, "plut", "-impl", "-name", "p", "-out", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cmds = [c["cmd"] for c in calls]
    order = ["synth_design", "opt_design", "place_design", "phys_opt_design", "route_design", "report_power"]
    assert [c for c in cmds if c in order] == order
    summary = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert summary["stage"] == "route" and summary["timing_is_estimate"] is False
    assert "estimate" not in next(ln for ln in proc.stdout.splitlines() if "WNS" in ln)


@pytest.mark.parametrize(("wns", "whs"), [("-0.120", "0.05"), ("0.3", "-0.01")])
def test_timing_failure_exits_nonzero_after_the_reports(tmp_path: Path, wns: str, whs: str):
    proc, _ = run_mock(tmp_path, "mult", "-out", str(tmp_path),
                       env={"MOCK_VIVADO_WNS": wns, "MOCK_VIVADO_WHS": whs})
    assert proc.returncode == 1 and "TIMING NOT MET" in proc.stderr
    summary = json.loads((tmp_path / "mult_z7035" / "summary.json").read_text())
    assert summary["timing_met"] is False and summary["wns_ns"] == float(wns)


def test_overrides(tmp_path: Path):
    proc, calls = run_mock(tmp_path, "mult", "-part", "xc7z020clg400-1", "-period", "6.5",
                           "-out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert flag(only(calls, "synth_design")[0], "-part") == "xc7z020clg400-1"
    assert "-period 6.5 " in (tmp_path / "mult_z7035" / "clock.xdc").read_text()


def test_tool_failure_is_one_line(tmp_path: Path):
    proc, calls = run_mock(tmp_path, "shift", "-generic", "PAR_INN=8", "-out", str(tmp_path))
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("vivado_synth.tcl: synth_design failed:")
    assert "PAR_INN" in proc.stderr
    assert "report_utilization" not in [c["cmd"] for c in calls]


BAD = [
    ([], "usage"),
    (["conv"], "core must be"),
    (["shift", "-bogus", "1"], "-bogus"),
    (["shift", "-period"], "no value"),
    (["shift", "-period", "fast"], "-period"),
    (["shift", "-target", "zcu104"], "-target"),
    (["shift", "-generic", "PAR_IN"], "-generic"),
    (["shift", "-name", "../x"], "-name"),
    (["shift", "-format", "sparse"], "-format"),
]


def test_pruned_format_sets_format_generic(tmp_path: Path):
    """-format picks the engine's FORMAT; IKR's K/P come as ordinary generics the mock checks
    against rtl/conv_engine.v."""
    proc, calls = run_mock(tmp_path, "plut", "-format", "ikr", "-generic", "IKR_K=4",
                           "-out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (synth,) = only(calls, "synth_design")
    generics = [synth[k + 1] for k, a in enumerate(synth) if a == "-generic"]
    assert generics == ["ARITH=2", "FORMAT=2", "IKR_K=4"]
    assert (tmp_path / "o" / "plut_ikr_z7035" / "summary.json").is_file()


@pytest.mark.parametrize(("args", "needle"), BAD, ids=[" ".join(a) or "empty" for a, _ in BAD])
def test_bad_input(tmp_path: Path, args: list[str], needle: str):
    proc, calls = run_mock(tmp_path, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = (proc.stderr or proc.stdout).strip()
    assert "\n" not in message and needle in message, message
    assert not calls, "a Vivado command ran before the options were checked"


MOCK_REJECTS = [
    ("report_dsp_usage -file x.rpt", "invalid command name"),
    ("read_verilog nothere.v", "does not exist"),
    ("report_utilization -file u.rpt", "no open design"),
    ("synth_design -top conv_shift", "missing option '-part'"),
    ("synth_design -top conv_shift -part p -mode ooc", "invalid option value"),
    ("get_property SLACK", "positional"),
    ("set f [open c.xdc w]; puts $f {create_clock -period 4 [get_ports clock]}; close $f; read_xdc c.xdc",
     "only the port clk"),
    ("set f [open c.xdc w]; puts $f {set_property HD.CLK_SRC X0Y0 [get_ports clk]}; close $f; read_xdc c.xdc",
     "not a global clock buffer site"),
]


@pytest.mark.parametrize(("script", "needle"), MOCK_REJECTS, ids=[s[:40] for s, _ in MOCK_REJECTS])
def test_mock_rejects_what_vivado_rejects(tmp_path: Path, script: str, needle: str):
    (tmp_path / "flow.tcl").write_text(script + "\nexit 0\n")
    proc = subprocess.run([need_tclsh(), str(MOCK), str(tmp_path / "log.jsonl"), str(tmp_path / "flow.tcl")],
                          capture_output=True, text=True, cwd=tmp_path, env=clean_env(), timeout=60)
    assert proc.returncode != 0 and needle in proc.stderr, proc.stderr


def test_make_vivado_passes_tclargs(tmp_path: Path):
    """`make vivado` with a `vivado` on PATH that, like the tool, gives the script only what
    follows -tclargs (the last option) as argv."""
    tclsh = need_tclsh()
    if not shutil.which("make"):
        pytest.skip("make not found")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "vivado"
    exe.write_text(f"""#!/bin/sh
mode=""; src=""
while [ $# -gt 0 ]; do
    case $1 in
        -mode) mode=$2; shift 2 ;;
        -source) src=$2; shift 2 ;;
        -nojournal|-nolog|-notrace) shift ;;
        -journal|-log) shift 2 ;;
        -tclargs) shift; break ;;
        *) echo "vivado: unknown option $1" >&2; exit 99 ;;
    esac
done
[ "$mode" = batch ] && [ -f "$src" ] || {{ echo "vivado: needs -mode batch -source FILE" >&2; exit 99; }}
exec "{tclsh}" "{MOCK}" "{tmp_path / 'make_calls.jsonl'}" "$src" "$@"
""")
    exe.chmod(0o755)
    env = clean_env(PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run(["make", "--no-print-directory", "-C", str(REPO), "vivado",
                           f"VIVADO_ARGS=plut -name mk -out {tmp_path}"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads((tmp_path / "mk" / "summary.json").read_text())["top"] == "conv_engine"
