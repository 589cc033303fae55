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


def run_mock(tmp_path: Path, *args: str, env: dict | None = None, script: Path = SCRIPT):
    log = tmp_path / "vivado_calls.jsonl"
    log.unlink(missing_ok=True)
    proc = subprocess.run([need_tclsh(), str(MOCK), str(log), str(script), *args], capture_output=True,
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


# --------------------------------------------------------------------------------------------
# scripts/vivado_ip.tcl: IP packaging (ipx::) and the block design behind two AXI DMAs.

IP_SCRIPT = REPO / "scripts" / "vivado_ip.tcl"


def run_ip(tmp_path: Path, *args: str, env: dict | None = None):
    return run_mock(tmp_path, *args, env=env, script=IP_SCRIPT)


def rtl_parameters() -> dict[str, int]:
    import re
    text = (REPO / "rtl" / "conv_engine.v").read_text()
    header = text[text.index("module conv_engine"):text.index(") (")]
    return {k: int(v) for k, v in re.findall(r"parameter\s+(\w+)\s*=\s*(\d+)", header)}


def dict_pairs(args: list[str]) -> dict[str, str]:
    """The name/value pairs of `set_property -dict {...} obj` as Tcl wrote them (flat list)."""
    words = subprocess.run([need_tclsh()], input=f"puts [join [list {{*}}{{{flag(args, '-dict')}}}] \\n]\n",
                           capture_output=True, text=True, check=True).stdout.splitlines()
    return dict(zip(words[::2], words[1::2], strict=True))


@pytest.mark.parametrize(("target", "ps_vlnv", "dma_bits"), [
    ("z7035", "xilinx.com:ip:processing_system7:5.5", 64),
    ("kv260", "xilinx.com:ip:zynq_ultra_ps_e:3.5", 128),
])
def test_ip_package_and_block_design(tmp_path: Path, target: str, ps_vlnv: str, dma_bits: int):
    proc, calls = run_ip(tmp_path, "mult", "-format", "ikr", "-target", target, "-generic", "PAR_OUT=8",
                         "-out", str(tmp_path / "o"), "-bd")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cmds = [c["cmd"] for c in calls]
    # packaged from the project holding every RTL file, the engine as top
    added = only(calls, "add_files")[0]
    rtl = [str(p) for p in (REPO / "rtl").iterdir() if p.suffix in (".v", ".vh")]  # sources and headers
    assert added[0] == "-norecurse" and sorted(added[1].split()) == sorted(rtl)
    (pkg,) = only(calls, "ipx::package_project")
    assert flag(pkg, "-vendor") == "pot-conv.org" and flag(pkg, "-library") == "cnn"
    core = "core:conv_engine"
    assert ["xilinx.com:interface:axis_rtl:1.0", core] in only(calls, "ipx::infer_bus_interfaces")
    assert ["-busif", "m_axis_out", "-clock", "clk", core] in only(calls, "ipx::associate_bus_interfaces")
    assert ["value", "ACTIVE_HIGH", "busparam:busif:rst:POLARITY"] in only(calls, "set_property")
    # the packaged core (the mock's component.xml): every engine parameter, the chosen defaults
    info = subprocess.run([need_tclsh()], input=(
        f"set fh [open {{{tmp_path}/o/conv_mult_ikr_{target}/ip/component.xml}}]; set i [read $fh]\n"
        "puts [dict get $i vlnv]\n"
        "dict for {k v} [dict get $i uparams] {puts \"$k [dict get $v value]\"}\n"
        "dict for {k v} [dict get $i busifs] {puts \"busif $k [dict get $v kind] [dict get $v mode]\"}\n"),
        capture_output=True, text=True, check=True).stdout.splitlines()
    assert info[0] == "pot-conv.org:cnn:conv_mult_ikr:1.0"
    params = rtl_parameters() | {"ARITH": 0, "FORMAT": 2, "PAR_OUT": 8}
    assert {ln.split()[0]: int(ln.split()[1]) for ln in info[1:] if not ln.startswith("busif")} == params
    busifs = {ln.split()[1]: ln.split()[2:] for ln in info if ln.startswith("busif")}
    assert busifs == {"s_axil": ["aximm", "slave"], "s_axis_act": ["axis", "slave"],
                      "s_axis_wgt": ["axis", "slave"], "m_axis_out": ["axis", "master"],
                      "clk": ["clock", "slave"], "rst": ["reset", "slave"]}
    # the block design: the target's PS, the core configured as packaged, converters sized
    cells = {a[-1]: flag(a, "-vlnv") for a in only(calls, "create_bd_cell")}
    assert cells["ps"] == ps_vlnv and cells["conv"] == info[0]
    configs = {a[-1]: dict_pairs(a) for a in only(calls, "set_property")
               if "-dict" in a and a[-1].startswith("/")}
    assert {k[7:]: int(v) for k, v in configs["/conv"].items()} == params
    beat_bits = {"cvt_act": params["PAR_IN"] * params["A_BITS"],
                 "cvt_wgt": params["PAR_IN"] * params["PAR_OUT"] * params["W_BITS"],
                 "cvt_out": params["PAR_OUT"] * 32}
    for cvt, bits in beat_bits.items():
        s, m = (dma_bits, bits) if cvt != "cvt_out" else (bits, dma_bits)
        assert (int(configs[f"/{cvt}"]["CONFIG.S_TDATA_NUM_BYTES"]),
                int(configs[f"/{cvt}"]["CONFIG.M_TDATA_NUM_BYTES"])) == (s // 8, m // 8), cvt
    assert configs["/dma_wgt"]["CONFIG.c_include_s2mm"] == "0"
    assert int(configs["/dma_act"]["CONFIG.c_m_axis_mm2s_tdata_width"]) == dma_bits
    nets = only(calls, "connect_bd_intf_net")
    for a, b in (["/dma_act/M_AXIS_MM2S", "/cvt_act/S_AXIS"], ["/cvt_act/M_AXIS", "/conv/s_axis_act"],
                 ["/cvt_wgt/M_AXIS", "/conv/s_axis_wgt"], ["/conv/m_axis_out", "/cvt_out/S_AXIS"],
                 ["/cvt_out/M_AXIS", "/dma_act/S_AXIS_S2MM"]):
        assert [a, b] in nets
    assert ["/rst_conv/peripheral_reset", "/conv/rst"] in only(calls, "connect_bd_net"), "active-high reset"
    order = ["ipx::save_core", "update_ip_catalog", "create_bd_design", "validate_bd_design",
             "save_bd_design", "make_wrapper"]
    assert [c for c in cmds if c in order] == order
    assert "launch_runs" not in cmds


def test_ip_package_only(tmp_path: Path):
    proc, calls = run_ip(tmp_path, "plut", "-out", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cmds = [c["cmd"] for c in calls]
    assert cmds[-1] == "close_project" and "create_bd_design" not in cmds
    assert (tmp_path / "conv_plut_z7035" / "ip" / "component.xml").is_file()


@pytest.mark.parametrize(("status", "rc"), [("write_bitstream Complete!", 0), ("route_design ERROR", 1)])
def test_ip_bitstream(tmp_path: Path, status: str, rc: int):
    proc, calls = run_ip(tmp_path, "shift", "-generic", "W_BITS=4", "-out", str(tmp_path), "-bd",
                         "-bitstream", env={"MOCK_VIVADO_RUN_STATUS": status})
    assert proc.returncode == rc, proc.stdout + proc.stderr
    (launch,) = only(calls, "launch_runs")
    assert launch[0] == "impl_1" and flag(launch, "-to_step") == "write_bitstream"
    if rc:
        failed = "vivado_ip.tcl: implementation failed: impl_1 status 'route_design ERROR'"
        assert proc.stderr.strip() == failed


IP_BAD = [
    ([], "usage"),
    (["dsp"], "core must be"),
    (["mult", "-format", "sparse"], "-format"),
    (["mult", "-target", "zcu104"], "-target"),
    (["mult", "-generic", "ARITH=1"], "set by <core>"),
    (["mult", "-generic", "PAR_INN=4"], "no such parameter"),
    (["mult", "-generic", "PAR_IN=x"], "malformed"),
    (["mult", "-vendor", "Bad Vendor"], "-vendor"),
    (["mult", "-bitstream"], "-bitstream needs -bd"),
    (["mult", "-generic", "PAR_IN=2", "-generic", "A_BITS=5", "-bd"], "s_axis_act is 10 bits"),
    (["mult", "-bogus"], "unknown option"),
]


@pytest.mark.parametrize(("args", "needle"), IP_BAD, ids=[" ".join(a) or "empty" for a, _ in IP_BAD])
def test_ip_bad_input(tmp_path: Path, args: list[str], needle: str):
    proc, calls = run_ip(tmp_path, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = (proc.stderr or proc.stdout).strip()
    assert "\n" not in message and needle in message, message
    assert not calls, "a Vivado command ran before the options were checked"


IP_MOCK_REJECTS = [
    ("create_project p .; create_bd_design d; create_bd_cell -type ip -vlnv xilinx.com:ip:nope:1.0 x",
     "IP definition not found"),
    ("create_project p .; ipx::package_project -root_dir ip -vendor v -library l", "no top module"),
    ("create_project p .; set_property top conv_nothing [current_fileset]", "not found"),
    ("ipx::current_core", "no current core"),
    ("create_project p .; set_property file_type {Verilog Header} [get_files nothere.vh]",
     "expects at least one"),
    ("create_project p .; create_bd_cell -vlnv xilinx.com:ip:axi_dma:7.1 x", "missing option '-type'"),
]


@pytest.mark.parametrize(("script", "needle"), IP_MOCK_REJECTS, ids=[s[-40:] for s, _ in IP_MOCK_REJECTS])
def test_ip_mock_rejects_what_vivado_rejects(tmp_path: Path, script: str, needle: str):
    (tmp_path / "flow.tcl").write_text(script + "\nexit 0\n")
    proc = subprocess.run([need_tclsh(), str(MOCK), str(tmp_path / "log.jsonl"), str(tmp_path / "flow.tcl")],
                          capture_output=True, text=True, cwd=tmp_path, env=clean_env(), timeout=60)
    assert proc.returncode != 0 and needle in proc.stderr, proc.stderr


def test_ip_mock_validate_needs_every_stream_connected(tmp_path: Path):
    """A block design that leaves the core's input streams open fails validate_bd_design."""
    text = IP_SCRIPT.read_text().replace(
        "step connect_bd_intf_net connect_bd_intf_net [get_bd_intf_pins $cell/M_AXIS] "
        "[get_bd_intf_pins $dst]", "")
    assert text != IP_SCRIPT.read_text()
    broken = tmp_path / "scripts" / "vivado_ip.tcl"
    broken.parent.mkdir()
    broken.write_text(text)
    for f in ("clock_targets.tcl", "flow_common.tcl", "cores.tcl"):
        shutil.copy(REPO / "scripts" / f, broken.parent / f)
    (tmp_path / "rtl").symlink_to(REPO / "rtl")
    proc = subprocess.run([need_tclsh(), str(MOCK), str(tmp_path / "log.jsonl"), str(broken), "mult",
                           "-out", str(tmp_path / "o"), "-bd"], capture_output=True, text=True, cwd=tmp_path,
                          env=clean_env(), timeout=120)
    assert proc.returncode == 1
    assert "validate_bd_design failed" in proc.stderr and "/conv/s_axis_" in proc.stderr, proc.stderr
