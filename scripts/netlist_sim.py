#!/usr/bin/env python3
"""Post-synthesis netlist simulation: the Yosys xc7 netlist of a core runs the RTL regression's testbench.

For each core x weight format x parameter set: synthesize conv_engine with Debian yosys
(`synth_xilinx -family xc7 -flatten`, the cores / formats / parameter sets of
scripts/synth_yosys.py), write the mapped netlist (`write_verilog -noattr`) and its JSON, build it
with Verilator together with Yosys's Xilinx cell simulation models (<datdir>/xilinx/cells_sim.v;
waivers in verif/netlist/xilinx_cells.vlt) through the regression's cocotb runner, and run the
same cocotb test the RTL regression runs (verif/conv_engine/cocotb_conv_engine.py test_clean, both
output modes) on real-data tile vector sets: bit-exact or not.

Memory maxima: synth_yosys's parameter sets keep the memories tiny (H_MAX=W_MAX=8, CIN_MAX=
COUT_MAX=32), which no tile vector set fits (the smallest are 16x64 channels on 6x10 pixels and
32x32 on 8x8). The netlist is therefore synthesized with the RTL regression's p4x4 maxima
(H_MAX=W_MAX=16, CIN_MAX=COUT_MAX=64: NETLIST_MEMORY); lanes and arithmetic are synth_yosys's.
The tile sets are those the regression's p4x4 build runs (test_conv_engine.sets_for) at the
synthesized A_BITS; --tiles N runs the N smallest (default 1).

Block RAMs: Yosys 0.23's cells_sim.v declares RAMB18E1 / RAMB36E1 without behaviour, so
verif/netlist/xilinx_bram_sim.v models them (the configurations Yosys maps our RAMs to; any other
stops the simulation), and memories are mapped with a corrected copy of Yosys's RAMB36E1 template
(the stock one drops bits 68..71 of 72-bit words: YosysHQ/yosys#5833; --stock-bram-map keeps it).

Every model is built with Verilator toggle coverage; scripts/power_proxy.py runs the same model a
second time on the tile in MODE=1 only and weighs the toggle counts (docs/power.md).

    python scripts/netlist_sim.py            # make netlist-sim: every core x format, p4x4
    python scripts/netlist_sim.py --cores shift_pot4 --formats dense
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "verif"))
sys.path.insert(0, str(REPO))

import synth_yosys as sy  # noqa: E402  (the cores, formats and parameter sets: one table)

OUT = REPO / "build" / "netlist_sim"
VLT = REPO / "verif" / "netlist" / "xilinx_cells.vlt"
BRAM_MODELS = REPO / "verif" / "netlist" / "xilinx_bram_sim.v"
BRAM_MODELLED = ("RAMB18E1", "RAMB36E1")  # declared in cells_sim.v without behaviour (Yosys 0.23)
TEST_MODULE = "conv_engine.cocotb_conv_engine"
# the RTL regression's p4x4 memory maxima: the smallest tile vector sets fit them
NETLIST_MEMORY = {"H_MAX": 16, "W_MAX": 16, "CIN_MAX": 64, "COUT_MAX": 64}
NETLIST_OPT_FAST = "OPT_FAST=-O0"


class UsageError(Exception):
    """A bad option value (one line, exit 2)."""


def verif_core_name(core: str) -> str:
    """synth_yosys's core name -> verif's (mult_int8_nodsp is MULT int8 built without DSPs)."""
    return sy.REGISTRY_CORE[core].name


def datdir(yosys: str) -> Path:
    """Yosys's data directory (yosys-config --datdir, else <prefix>/share/yosys beside the binary)."""
    config = shutil.which("yosys-config")
    if config:
        out = subprocess.run([config, "--datdir"], capture_output=True, text=True).stdout.strip()
        if out:
            return Path(out)
    return Path(yosys).resolve().parent.parent / "share" / "yosys"


def cell_models(yosys: str, out: Path) -> list[Path]:
    """The cell models a netlist is built with: Yosys's xilinx/cells_sim.v without its
    behaviour-less block RAM declarations (copied to <out>/xilinx/cells_sim.v, so the waivers
    for the vendor file still match it), and our block RAM models in their place."""
    vendor = datdir(yosys) / "xilinx" / "cells_sim.v"
    if not vendor.is_file():
        sys.exit(f"netlist_sim: Yosys Xilinx cell models not found: {vendor}")
    text = vendor.read_text()
    for ram in BRAM_MODELLED:
        text, n = re.subn(rf"^module {ram} \(.*?^endmodule\n", "", text, count=1, flags=re.M | re.S)
        if n != 1:
            sys.exit(f"netlist_sim: {vendor} declares no module {ram}")
    copy = out / "xilinx" / "cells_sim.v"
    copy.parent.mkdir(parents=True, exist_ok=True)
    if not copy.exists() or copy.read_text() != text:
        copy.write_text(text)
    return [copy, BRAM_MODELS]


def tools_missing() -> str | None:
    """Why the netlist simulation cannot run here, or None."""
    exe = os.environ.get("YOSYS", "/usr/bin/yosys")
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)) and not shutil.which("yosys"):
        return f"yosys not found ({exe}); install the Debian package: sudo apt-get install yosys"
    from common.sim_env import sim_tools_missing
    from common.vector_sets import vectors_missing
    return sim_tools_missing() or vectors_missing()


def synth_parameters(core: str, fmt: str, pset: str) -> dict[str, int]:
    core_params, _ = sy.CORES[core]
    return dict(sy.PARAM_SETS[pset], **NETLIST_MEMORY, **core_params, **sy.FORMATS[fmt])


def core_formats(core: str) -> tuple[str, ...]:
    from common.vector_sets import CORES
    return CORES[verif_core_name(core)].formats


# Yosys 0.23's brams_xc6v_map.v feeds DIPBDIP of a 72-bit simple-dual-port RAMB36E1 from the
# wrong parity bits (`PORT_W_WIDTH == 71`, never true): bits 68..71 of every word are written as
# copies of 64..67 (fixed upstream in YosysHQ/yosys PR #5833). The netlist simulation caught it
# (lanes 2-3 of SHIFT pot4 wrong); the flow below maps memories with the corrected template, the
# same passes synth_xilinx runs at its map_memory label for xc7 otherwise (checked: the netlists
# differ in that one connection only). --stock-bram-map runs plain synth_xilinx instead.
BRAM_MAP = "brams_xc6v_map.v"
BRAM_MAP_BUG = "PORT_W_WIDTH == 71 ? DIP[7:4]"
BRAM_MAP_FIX = "PORT_W_WIDTH == 72 ? DIP[7:4]"
XC7_MAP_MEMORY = ("memory_libmap -logic-cost-rom 0.015625 -lib +/xilinx/lutrams_xc5v.txt "
                  "-lib +/xilinx/brams_xc4v.txt -D HAS_SIZE_36 -D HAS_CASCADE -D HAS_CONFLICT_BUG "
                  "-D HAS_MIXWIDTH_SDP",
                  "techmap -map +/xilinx/lutrams_xc5v_map.v")


def fixed_bram_map(yosys: str, out: Path) -> Path | None:
    """A corrected copy of the xc7 block RAM template under out/, or None if this Yosys is fixed."""
    src = datdir(yosys) / "xilinx"
    text = (src / BRAM_MAP).read_text()
    if text.count(BRAM_MAP_BUG) != 1:
        return None
    dest = out / "yosys_fix"
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(src / "brams_defs.vh", dest / "brams_defs.vh")  # the template includes it
    (dest / BRAM_MAP).write_text(text.replace(BRAM_MAP_BUG, BRAM_MAP_FIX))
    return dest / BRAM_MAP


def synthesize(yosys: str, core: str, fmt: str, pset: str, wdir: Path,
               bram_map: Path | None) -> tuple[float, bool]:
    """netlist.v + netlist.json of one core under wdir; (seconds, reused). A netlist of the same
    script newer than every RTL file is reused. bram_map: the corrected block RAM template."""
    _, nodsp = sy.CORES[core]
    params = synth_parameters(core, fmt, pset)
    rtl = " ".join(sorted(str(p) for p in sy.RTL_DIR.glob("*.v")))
    chparam = " ".join(f"-chparam {k} {v}" for k, v in params.items())
    synth = f"synth_xilinx -family xc7 -top {sy.TOP} -flatten" + (" -nodsp" if nodsp else "")
    mapping = [synth] if bram_map is None else [
        f"{synth} -run :map_memory", *XC7_MAP_MEMORY, f"techmap -map {bram_map}", f"{synth} -run map_ffram:"]
    script = "\n".join([
        f"read_verilog -defer -I{sy.RTL_DIR} {rtl}",
        f"hierarchy -check -top {sy.TOP} {chparam}",
        *mapping,
        "opt_clean -purge",
        # public names for every net and cell, so the Verilog netlist and the JSON one (the power
        # proxy maps toggle counts of nets to their driving cells through it) name them alike
        "rename -enumerate",
        f"tee -q -o {wdir / 'stat.txt'} stat",
        f"write_verilog -noattr {wdir / 'netlist.v'}",
        f"write_json {wdir / 'netlist.json'}",
        "",
    ])
    ys, netlist = wdir / "synth.ys", wdir / "netlist.v"
    newest_rtl = max(p.stat().st_mtime for p in sy.RTL_DIR.iterdir())
    if (ys.exists() and ys.read_text() == script and netlist.exists()
            and (wdir / "netlist.json").exists() and netlist.stat().st_mtime > newest_rtl):
        return 0.0, True
    wdir.mkdir(parents=True, exist_ok=True)
    ys.write_text(script)
    netlist.unlink(missing_ok=True)
    t0 = time.time()
    proc = subprocess.run([yosys, "-q", "-l", str(wdir / "yosys.log"), "-s", str(ys)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"yosys failed ({wdir / 'yosys.log'}): {(proc.stderr or proc.stdout)[-1500:]}")
    return time.time() - t0, False


def build_netlist_model(name: str, sources: list[Path]) -> Path:
    """Verilate + compile the netlist with the cell models through the regression runner's
    Verilator class (same flags as common.runner.build_model; the netlist has no parameters).
    Always with --coverage-toggle on the netlist's nets (--coverage-underscore: rename -enumerate
    names most nets _N_, which Verilator would otherwise skip), so the bit-exact check and the
    power proxy share one model per netlist; the counters cost the simulation little."""
    from common.runner import _fast_verilator_class
    from common.sim_env import PUBLIC_PORTS_VLT, SIM_BUILD_ROOT, verilator_env
    from filelock import FileLock

    os.environ.update(verilator_env())
    # a flat netlist is one huge model: -O3 (the RTL builds' OPT_FAST) costs minutes of g++ per core
    # and buys nothing here (SHIFT pot4: 137 s of build at -O1, 62 s at -O0; the cocotb
    # testbench sets the simulation's pace either way: 13 s per mode)
    os.environ["MAKEFLAGS"] = os.environ.get("MAKEFLAGS", "").replace("OPT_FAST=-O3", NETLIST_OPT_FAST)
    build_dir = SIM_BUILD_ROOT / name
    build_dir.parent.mkdir(parents=True, exist_ok=True)
    base = _fast_verilator_class()

    class NetlistVerilator(base):
        def _build_command(self):
            verilate, make = super()._build_command()
            return [verilate, [NETLIST_OPT_FAST if a == "OPT_FAST=-O3" else a for a in make]]

    runner = NetlistVerilator()
    with FileLock(str(build_dir) + ".lock"):
        exe = build_dir / sy.TOP
        inputs = [*sources, VLT, PUBLIC_PORTS_VLT]
        if exe.exists() and exe.stat().st_mtime > max(p.stat().st_mtime for p in inputs):
            return build_dir  # the name carries the netlist's hash: an up-to-date model is this one
        runner.build(
            # the waivers before the files they cover
            sources=[str(VLT), str(PUBLIC_PORTS_VLT), *map(str, sources)],
            hdl_toplevel=sy.TOP,
            build_args=["--no-public-flat-rw", "--coverage-toggle", "--coverage-underscore"],
            build_dir=build_dir,
            timescale=("1ns", "1ps"),
            log_file=build_dir / "build.log",
        )
    return build_dir


def tb_config(core: str, fmt: str, pset: str, tiles: int,
              tile_sets: list[str] | None = None) -> tuple[dict, list[str]]:
    """CONV_TB_CONFIG for the synthesized shape (built with the regression's own helpers), and the
    tile sets it runs (tile_sets: these instead of the core's own; the fault test feeds another
    arithmetic's). The engine parameters the TB assumes must equal the synthesized ones."""
    from common.streams import CoreShape
    from common.vector_sets import CORES, IKR_K, IKR_P
    from conv_engine.test_conv_engine import seeds, sets_for

    kind = CORES[verif_core_name(core)]
    params = synth_parameters(core, fmt, pset)
    shape = tuple(params[k] for k in ("PAR_IN", "PAR_OUT", "H_MAX", "W_MAX", "CIN_MAX", "COUT_MAX"))
    names = tile_sets or sets_for(kind.name, fmt, shape).get(params["A_BITS"], [])[:tiles]
    hdl = CoreShape(*shape[:2], params["A_BITS"], kind.w_bits, *shape[2:], fmt, IKR_K, IKR_P)
    assumed = hdl.hdl_parameters() | kind.hdl_parameters()
    differ = {k: (v, params.get(k)) for k, v in assumed.items() if params.get(k) != v}
    if differ:
        raise RuntimeError(f"{core} {fmt} {pset}: testbench and netlist parameters differ: {differ}")
    config = {"core": asdict(hdl), "sets": names, "seeds": seeds(),
              "max_abs_weight": kind.max_abs_weight(), "core_name": kind.name,
              "stress_sets": [], "level_exp_max": kind.level_exp_max, "plut_sym": kind.plut_sym}
    return config, names


def first_mismatches(run_dir: Path, limit: int = 5) -> list[str]:
    """The first mismatch lines the testbench logged (describe_mismatches), else its failure."""
    log = run_dir / "sim.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    lines = [m.group(1) for m in re.finditer(r"^\s+(\S.*(?:expected .*, got .*|beats, expected .*))$",
                                             text, flags=re.M)]
    if not lines:
        lines = [ln.strip() for ln in text.splitlines() if "AssertionError" in ln or "FAIL" in ln]
    return lines[:limit]


def run_one(yosys: str, core: str, fmt: str, pset: str, out: Path, tiles: int = 1, toggle: bool = False,
            netlist_edit=None, tile_sets: list[str] | None = None, stock_bram_map: bool = False) -> dict:
    """Synthesize (or reuse), build and simulate one core; the result record.
    netlist_edit(text) -> text: a changed netlist (fault tests) simulated instead of the synthesized one.
    tile_sets: run these vector sets instead of the core's own smallest."""
    from common.runner import run_cocotb

    run = f"{core}-{fmt}-{pset}"
    bram_map = None if stock_bram_map else fixed_bram_map(yosys, out)
    wdir = out / (run + ("-stock" if stock_bram_map else ""))
    base = {"run": run, "core": core, "format": fmt, "params": pset,
            "parameters": synth_parameters(core, fmt, pset)}
    config, names = tb_config(core, fmt, pset, tiles, tile_sets)
    if not names:
        return {**base, "error": "no tile vector set fits this shape (make vectors)"}
    synth_s, reused = synthesize(yosys, core, fmt, pset, wdir, bram_map)
    netlist = wdir / "netlist.v"
    if netlist_edit is not None:
        edited = netlist_edit(netlist.read_text())
        netlist = wdir / "netlist_edited.v"
        netlist.write_text(edited)
    digest = hashlib.sha1(netlist.read_bytes()).hexdigest()[:10]  # a changed netlist never shares a model
    t0 = time.time()
    build = build_netlist_model(f"netlist-{wdir.name}-{digest}", [netlist, *cell_models(yosys, out)])
    build_s = time.time() - t0
    env = {"CONV_TB_CONFIG": json.dumps(config)}
    sets = "+".join(names)
    t0 = time.time()
    error, mismatches = None, []
    run_dir = build / "runs" / f"clean-{sets}"
    try:  # the regression's check: test_clean, MODE=0 and 1
        run_cocotb(build, sy.TOP, TEST_MODULE, run_name=run_dir.name, testcase="test_clean", env=env)
    except AssertionError as exc:
        error, mismatches = str(exc).splitlines()[0], first_mismatches(run_dir)
    sim_s = time.time() - t0
    toggle_dir = None
    if toggle and error is None:  # activity of MODE=1 alone (coverage.dat of this run only)
        toggle_dir = build / "runs" / f"toggle-{sets}"
        try:
            run_cocotb(build, sy.TOP, TEST_MODULE, run_name=toggle_dir.name, testcase="test_clean/mode=1",
                       env=env)
        except AssertionError as exc:
            error, mismatches = str(exc).splitlines()[0], first_mismatches(toggle_dir)
    return {**base, "bram_map": "stock" if bram_map is None else "fixed (YosysHQ/yosys#5833)",
            "tile_sets": names, "modes": [0, 1], "bit_exact": error is None,
            "first_mismatches": mismatches, "failure": error, "synth_seconds": round(synth_s, 1),
            "synth_reused": reused, "build_seconds": round(build_s, 1), "sim_seconds": round(sim_s, 1),
            "netlist": str(netlist), "build_dir": str(build), "run_dir": str(run_dir),
            "toggle_run_dir": None if toggle_dir is None else str(toggle_dir)}


def parse_choice(value: str | None, default: list[str], known, what: str, prog: str) -> list[str]:
    chosen = value.split(",") if value else list(default)
    bad = [x for x in chosen if x not in known]
    if bad:
        raise UsageError(f"{prog}: unknown {what} {bad[0]!r} (choose from {', '.join(known)})")
    return chosen


def matrix(args, prog: str) -> list[tuple[str, str, str]]:
    """(core, format, parameter set) runs of the options; formats a core lacks are left out
    (the packed multipliers are dense only) unless asked for by name."""
    cores = parse_choice(args.cores, list(sy.CORES), sy.CORES, "core", prog)
    fmts = parse_choice(args.formats, list(sy.FORMATS), sy.FORMATS, "format", prog)
    psets = parse_choice(args.params, ["p4x4"], sy.PARAM_SETS, "parameter set", prog)
    runs = [(c, f, p) for p in psets for c in cores for f in fmts if f in core_formats(c)]
    if args.formats and args.cores:
        for c in cores:
            for f in fmts:
                if f not in core_formats(c):
                    raise UsageError(f"{prog}: core {c!r} has no format {f!r} "
                                     f"(it has {', '.join(core_formats(c))})")
    return runs


def add_matrix_options(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--cores", default=None,
                    help=f"comma-separated cores of {', '.join(sy.CORES)} (default all)")
    ap.add_argument("--formats", default=None,
                    help=f"comma-separated weight formats of {', '.join(sy.FORMATS)} "
                    "(default: each the core has)")
    ap.add_argument("--params", default=None,
                    help=f"comma-separated parameter sets of {', '.join(sy.PARAM_SETS)} "
                    "(default p4x4; lanes only, memories NETLIST_MEMORY)")
    ap.add_argument("--out", type=Path, default=OUT, help=f"output directory (default {OUT})")


def main(argv: list[str] | None = None) -> int:
    prog = "netlist_sim"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_matrix_options(ap)
    ap.add_argument("--tiles", type=int, default=1,
                    help="tile vector sets per run, smallest first (default 1)")
    ap.add_argument("--stock-bram-map", action="store_true",
                    help="map block RAMs with Yosys's own template (0.23: the RAMB36E1 x72 parity bug)")
    args = ap.parse_args(argv)
    try:
        runs = matrix(args, prog)
        if args.tiles < 1:
            raise UsageError(f"{prog}: --tiles must be at least 1, not {args.tiles}")
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    why = tools_missing()
    if why:
        print(f"{prog}: {why}", file=sys.stderr)
        return 1
    results = run_matrix(runs, args.out.resolve(), tiles=args.tiles, stock_bram_map=args.stock_bram_map)
    return 0 if all(r.get("bit_exact") for r in results) else 1


def run_matrix(runs: list[tuple[str, str, str]], out: Path, tiles: int = 1, toggle: bool = False,
               stock_bram_map: bool = False, on_result=None) -> list[dict]:
    """run_one for every (core, format, parameter set), a row each as it finishes (on_result(r)
    adds to the record), then <out>/netlist_sim.json. A failing run is recorded, not fatal."""
    yosys = sy.find_yosys()
    out.mkdir(parents=True, exist_ok=True)
    results = []
    t_start = time.time()
    print(HEADER, flush=True)
    for core, fmt, pset in runs:
        try:
            r = run_one(yosys, core, fmt, pset, out, tiles=tiles, toggle=toggle,
                        stock_bram_map=stock_bram_map)
        except (RuntimeError, OSError) as exc:
            r = {"run": f"{core}-{fmt}-{pset}", "core": core, "format": fmt, "params": pset,
                 "error": str(exc)}
        if on_result is not None:
            on_result(r)
        results.append(r)
        print(format_row(r), flush=True)
        for m in r.get("first_mismatches", []):
            print(f"      {m}")
    wall = round(time.time() - t_start, 1)
    (out / "netlist_sim.json").write_text(json.dumps(
        {"tool": subprocess.run([yosys, "-V"], capture_output=True, text=True).stdout.strip(),
         "flow": "synth_xilinx -family xc7 -flatten (block RAMs: see bram_map); write_verilog -noattr; "
                 "Verilator + cells_sim.v + verif/netlist/xilinx_bram_sim.v; "
                 "cocotb test_clean (MODE 0 and 1)",
         "memory": NETLIST_MEMORY, "wall_seconds": wall, "runs": results}, indent=2))
    exact = sum(1 for r in results if r.get("bit_exact"))
    print(f"\n{exact} of {len(results)} netlists bit-exact; wrote {out / 'netlist_sim.json'} "
          f"(wall {wall:.0f}s)")
    return results


HEADER = f"{'core':16s} {'format':6s} {'params':6s} {'tile set(s)':28s} {'result':10s} {'synth s':>7s} " \
         f"{'build s':>7s} {'sim s':>6s}"


def format_row(r: dict) -> str:
    if "error" in r:
        return f"{r['core']:16s} {r['format']:6s} {r['params']:6s} ERROR: {r['error'][:300]}"
    result = "bit-exact" if r["bit_exact"] else "MISMATCH"
    synth = "reused" if r["synth_reused"] else f"{r['synth_seconds']:.0f}"
    return (f"{r['core']:16s} {r['format']:6s} {r['params']:6s} {'+'.join(r['tile_sets']):28s} {result:10s} "
            f"{synth:>7s} {r['build_seconds']:7.0f} {r['sim_seconds']:6.0f}")


if __name__ == "__main__":
    sys.exit(main())
