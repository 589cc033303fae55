#!/usr/bin/env python3
"""Pruning benchmark: the whole conv8 layer (real weights and activations) through every
arithmetic in every weight format at PAR_IN = PAR_OUT = 16, as bare `verilator --binary`
harness runs (no Python per cycle). Every output is checked against the vector set. Prints
cycles, ideal cycles, efficiency, the speedup of KRP / IKR over the same core dense (equal
lanes) and the wall time, and writes build/bench_formats.json.

Targets (issue: pruning-aware RTL): KRP >= 0.95 x 3.0 and IKR(K=4) >= 0.95 x 2.25 fewer cycles
than dense; whole-layer wall <= 60 s per run.
Usage: .venv/bin/python scripts/bench_formats.py [--cores mult-int8 ...] [--formats dense krp ikr]
       [--mode 0|1] [--runs core:format ...] [--jobs N]
(`make all` runs one core of each arithmetic, each in another format: --runs mult-int8:dense
shift-pot4:krp plut-ios4:ikr --jobs 2.)
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT / "verif"), str(REPO_ROOT)]

from common.layer_run import run_layer_bare  # noqa: E402
from common.sim_env import BUILD_ROOT, apply_verilator_env, sim_tools_missing  # noqa: E402
from common.vector_sets import CORES, IKR_K, MAKE_VECTORS_HINT, layer_set  # noqa: E402

from pymodel import registry  # noqa: E402

SPEEDUP_TARGET = {"krp": 0.95 * 3.0, "ikr": 0.95 * 9 / IKR_K}
WALL_TARGET_S = 60.0


def _run_pair(text: str) -> tuple[str, str]:
    core, sep, fmt = text.partition(":")
    if not sep or core not in CORES or fmt not in ("dense", "krp", "ikr"):
        raise argparse.ArgumentTypeError(f"{text!r}: expected CORE:FORMAT with CORE in {', '.join(CORES)} "
                                         "and FORMAT dense, krp or ikr")
    return core, fmt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", nargs="+", choices=list(CORES),
                        default=registry.bench_cores(),
                        help="cores (arithmetic + code format) to run")
    parser.add_argument("--formats", nargs="+", choices=("dense", "krp", "ikr"),
                        default=["dense", "krp", "ikr"],
                        help="weight formats to run (speedups need dense)")
    parser.add_argument("--mode", type=int, choices=(0, 1), default=1, help="0 raw acc, 1 requantized")
    parser.add_argument("--runs", nargs="+", type=_run_pair, metavar="CORE:FORMAT",
                        help="exactly these core x format runs (instead of --cores x --formats)")
    parser.add_argument("--jobs", type=int, default=1, help="runs built and simulated at once (default 1)")
    parser.add_argument("--json", default=str(BUILD_ROOT / "bench_formats.json"), help="JSON output file")
    args = parser.parse_args()
    why = sim_tools_missing()
    if why:
        print(f"bench_formats: {why}", file=sys.stderr)
        return 2
    apply_verilator_env()
    pairs = args.runs or [(c, f) for c in args.cores for f in args.formats]
    work = []
    for core_name, fmt in pairs:
        set_name = layer_set(CORES[core_name], fmt)
        if set_name is None:
            print(f"bench_formats: no whole-layer {fmt} set for {core_name}: {MAKE_VECTORS_HINT}",
                  file=sys.stderr)
            return 2
        work.append((core_name, fmt, set_name))

    def one(job: tuple[str, str, str]) -> dict:
        core_name, fmt, set_name = job
        print(f"{core_name} {fmt}: {set_name} ...", flush=True)
        r = run_layer_bare(core_name, set_name, args.mode)
        print(f"{core_name} {fmt}: {r['outputs']} outputs bit-exact, {r['cycles']} cycles", flush=True)
        return {k: r[k] for k in ("core", "format", "set", "mode", "cycles", "ideal", "efficiency",
                                  "outputs", "wall_s", "sim_cycles_per_s")}

    # Threads only wait on the Verilator builds and runs (subprocesses); results keep input order.
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        rows = list(pool.map(one, work))
    for r in rows:
        dense = next((d for d in rows if d["core"] == r["core"] and d["format"] == "dense"), None)
        r["speedup_vs_dense"] = dense["cycles"] / r["cycles"] if dense else None
    header = (f"{'core':12} {'format':6} {'set':12} {'cycles':>9} {'ideal':>9} {'eff':>7} "
              f"{'vs dense':>9} {'wall s':>7} {'cycles/s':>9}")
    print("\n" + header + "\n" + "-" * len(header))
    for r in rows:
        speed = f"{r['speedup_vs_dense']:.3f}x" if r["speedup_vs_dense"] else ""
        print(f"{r['core']:12} {r['format']:6} {r['set']:12} {r['cycles']:>9} {r['ideal']:>9} "
              f"{r['efficiency']:>7.4f} {speed:>9} {r['wall_s']:>7.1f} {r['sim_cycles_per_s']:>9.0f}")
    misses = [f"{r['core']} {r['format']}: {r['speedup_vs_dense']:.3f}x < {SPEEDUP_TARGET[r['format']]:.3f}x"
              for r in rows if r["format"] in SPEEDUP_TARGET and r["speedup_vs_dense"]
              and r["speedup_vs_dense"] < SPEEDUP_TARGET[r["format"]]]
    misses += [f"{r['core']} {r['format']}: wall {r['wall_s']:.1f} s"
               for r in rows if r["wall_s"] > WALL_TARGET_S]
    print(f"targets: KRP >= {SPEEDUP_TARGET['krp']:.3f}x, IKR(K={IKR_K}) >= {SPEEDUP_TARGET['ikr']:.3f}x "
          f"fewer cycles than dense, wall <= {WALL_TARGET_S:.0f} s: " + ("met" if not misses else
                                                                          "NOT met: " + "; ".join(misses)))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"rows": rows, "targets": {"speedup": SPEEDUP_TARGET,
                                                                    "wall_s": WALL_TARGET_S}}, indent=2))
    print(f"wrote {args.json}")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
