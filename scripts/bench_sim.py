#!/usr/bin/env python3
"""Simulation benchmark: the full conv8 layer per core, harness + core at PAR 16x16, run
(a) under cocotb (the harness clocks itself; Python only waits for `done`) and (b) as a bare
`verilator --binary --timing -DHARNESS_CLOCK -DHARNESS_FINISH` executable. Every run's output
is checked in full against the vector set. Prints a table and writes build/bench_sim.json.
With --repeat N the two runs alternate N times and each keeps its fastest, so a load that comes
and goes on the machine hits both alike; the simulator processes' CPU seconds are printed beside
the wall times (for cocotb that includes the embedded Python's start and the harness's
$readmemh, which the Python-side wall time does not).

Targets: cocotb >= 0.5x bare cycles/s, full-layer wall <= 60 s per core.
Usage: .venv/bin/python scripts/bench_sim.py [--cores mult-int8 ...] [--mode 0|1] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT / "verif"), str(REPO_ROOT)]

from common.layer_run import run_layer_bare, run_layer_cocotb  # noqa: E402
from common.sim_env import BUILD_ROOT, apply_verilator_env, sim_tools_missing  # noqa: E402
from common.vector_sets import CORES, MAKE_VECTORS_HINT, layer_set  # noqa: E402

from pymodel import registry  # noqa: E402

COCOTB_RATIO_TARGET = 0.5
WALL_TARGET_S = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", nargs="+", choices=list(CORES),
                        default=registry.bench_cores())
    parser.add_argument("--mode", type=int, choices=(0, 1), default=0, help="0 raw acc, 1 requantized")
    parser.add_argument("--repeat", type=int, default=2, help="alternating runs of each; the fastest counts")
    parser.add_argument("--json", default=str(BUILD_ROOT / "bench_sim.json"))
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {args.repeat}")
    why = sim_tools_missing()
    if why:
        print(f"bench_sim: {why}", file=sys.stderr)
        return 2
    apply_verilator_env()
    rows = []
    for core_name in args.cores:
        set_name = layer_set(CORES[core_name])
        if set_name is None:
            print(f"bench_sim: no whole-layer vector set for {core_name}: {MAKE_VECTORS_HINT}",
                  file=sys.stderr)
            continue
        cocotb_runs, bare_runs = [], []
        for attempt in range(1, args.repeat + 1):
            print(f"{core_name}: {set_name} under cocotb ({attempt}/{args.repeat}) ...", flush=True)
            cocotb_runs.append(run_layer_cocotb(core_name, set_name, args.mode))
            print(f"{core_name}: {set_name} bare verilator ({attempt}/{args.repeat}) ...", flush=True)
            bare_runs.append(run_layer_bare(core_name, set_name, args.mode))
        cocotb_run = min(cocotb_runs, key=lambda r: r["wall_s"])
        bare_run = min(bare_runs, key=lambda r: r["wall_s"])
        if cocotb_run["cycles"] != bare_run["cycles"]:
            print(f"bench_sim: {core_name}: CYCLES differ between runs ({cocotb_run['cycles']} vs "
                  f"{bare_run['cycles']})", file=sys.stderr)
        rows.append({"core": core_name, "set": set_name, "mode": args.mode, "cycles": cocotb_run["cycles"],
                     "ideal": cocotb_run["ideal"], "efficiency": cocotb_run["efficiency"],
                     "outputs_checked": cocotb_run["outputs"],
                     "cocotb_wall_s": cocotb_run["wall_s"],
                     "cocotb_cycles_per_s": cocotb_run["sim_cycles_per_s"],
                     "bare_wall_s": bare_run["wall_s"], "bare_cycles_per_s": bare_run["sim_cycles_per_s"],
                     "ratio": cocotb_run["sim_cycles_per_s"] / bare_run["sim_cycles_per_s"],
                     "cocotb_cpu_s": min(r["cpu_s"] for r in cocotb_runs),
                     "bare_cpu_s": min(r["cpu_s"] for r in bare_runs),
                     "repeat": args.repeat})
    header = (f"{'core':12} {'set':12} {'cycles':>9} {'ideal':>9} {'eff':>6} {'cocotb s':>9} "
              f"{'cocotb c/s':>11} {'bare s':>7} {'bare c/s':>10} {'ratio':>6} {'cpu s cocotb/bare':>18}")
    print("\n" + header + "\n" + "-" * len(header))
    for r in rows:
        print(f"{r['core']:12} {r['set']:12} {r['cycles']:>9} {r['ideal']:>9} {r['efficiency']:>6.4f} "
              f"{r['cocotb_wall_s']:>9.1f} {r['cocotb_cycles_per_s']:>11.0f} {r['bare_wall_s']:>7.1f} "
              f"{r['bare_cycles_per_s']:>10.0f} {r['ratio']:>6.2f} "
              f"{r['cocotb_cpu_s']:>10.1f}/{r['bare_cpu_s']:<7.1f}")
    ok = all(r["ratio"] >= COCOTB_RATIO_TARGET and r["cocotb_wall_s"] <= WALL_TARGET_S for r in rows)
    print(f"targets: cocotb >= {COCOTB_RATIO_TARGET}x bare, wall <= {WALL_TARGET_S:.0f} s per core: "
          f"{'met' if ok else 'NOT met'} (fastest of {args.repeat} alternating runs each; wall = "
          f"Python-side time from the test's start to done, bare wall includes process start and "
          f"$readmemh; cpu s = the simulator process's user + system time)")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"rows": rows, "targets": {"ratio": COCOTB_RATIO_TARGET,
                                                                    "wall_s": WALL_TARGET_S}}, indent=2))
    print(f"wrote {args.json}")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
