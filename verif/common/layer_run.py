"""Whole-layer runs through verif/harness/conv_harness.v (file driven; no Python per cycle).

Shared by the slow pytest (verif/conv_engine/test_conv_layer.py) and scripts/bench_sim.py.
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import time
from pathlib import Path

import numpy as np

from .runner import build_dir_for, build_model, run_cocotb
from .sim_env import HARNESS_DIR, MAKE_OVERRIDES, RTL_DIR, verilator_env
from .streams import CoreShape
from .vector_sets import CORES, IKR_K, IKR_P, CoreKind, dims, load_set, set_dir

LAYER_PAR = 16  # PAR_IN = PAR_OUT for whole-layer runs


def harness_sources() -> list:
    return (sorted(RTL_DIR.glob("*.v")) + sorted(RTL_DIR.glob("*.vlt"))
            + [HARNESS_DIR / "conv_harness.v"] + sorted(HARNESS_DIR.glob("*.vlt")))


def harness_shape(a_bits: int, w_bits: int, fmt: str = "dense") -> CoreShape:
    return CoreShape(LAYER_PAR, LAYER_PAR, a_bits, w_bits, 28, 28, 256, 512, fmt, IKR_K, IKR_P)


def harness_parameters(core: CoreKind, fmt: str, a_bits: int) -> dict[str, int]:
    return harness_shape(a_bits, core.w_bits, fmt).hdl_parameters() | core.hdl_parameters()


def set_format(vs) -> str:
    """The weight format a whole-layer set runs in: its pruning's own (unstructured runs dense)."""
    pruning = vs.manifest["pruning"]
    return pruning if pruning in ("krp", "ikr") else "dense"


# a whole conv8 takes at most ~3.6 M cycles at 16x16 (MULT dense); the harness gives up (done,
# error = 1) after this many
LAYER_TIMEOUT_CYCLES = 20_000_000


def harness_plusargs(vs_name: str, vs, mode: int, out_file: str,
                     timeout_cycles: int = LAYER_TIMEOUT_CYCLES) -> list[str]:
    cin, cout, h, w = dims(vs)
    return [f"+dir={set_dir(vs_name)}", f"+H={h}", f"+W={w}", f"+CIN={cin}", f"+COUT={cout}",
            f"+MODE={mode}", f"+out={out_file}", f"+timeout={timeout_cycles}"]


def read_harness_output(path, cout: int, h: int, w: int, par_out: int, signed: bool) -> np.ndarray:
    """The harness's output file (one line per beat, lane 0 first, hex) as [Cout, H, W] int64."""
    words = np.array([int(tok, 16) for tok in open(path).read().split()], dtype=np.int64)
    expected_words = cout * h * w
    if words.size != expected_words:
        raise AssertionError(f"{path}: {words.size} output words, expected {expected_words}")
    if signed:
        words = np.where(words >= 1 << 31, words - (1 << 32), words)
    tiles = words.reshape(cout // par_out, h, w, par_out)  # stream order: tile, y, x, lane
    return np.transpose(tiles, (0, 3, 1, 2)).reshape(cout, h, w)


def first_mismatches(got: np.ndarray, want: np.ndarray, limit: int = 8) -> list[str]:
    bad = np.argwhere(got != want)
    lines = [f"channel {co} pixel (y={y}, x={x}): expected {want[co, y, x]}, got {got[co, y, x]}"
             for co, y, x in bad[:limit]]
    if len(bad) > limit:
        lines.append(f"... {len(bad)} mismatching outputs of {got.size}")
    return lines


def _check_and_measure(core: CoreKind, set_name: str, vs, mode: int, out_file: Path, result: dict) -> dict:
    cin, cout, h, w = dims(vs)
    got = read_harness_output(out_file, cout, h, w, LAYER_PAR, signed=mode == 0)
    want = (vs.acc if mode == 0 else vs.out).astype(np.int64)
    problems = first_mismatches(got, want)
    if problems:
        raise AssertionError(f"{core.name} {set_name} MODE={mode}:\n  " + "\n  ".join(problems))
    fmt = set_format(vs)
    ideal = harness_shape(int(vs.manifest["a_bits"]), core.w_bits, fmt).ideal_cycles(cin, cout, h, w)
    return result | {"core": core.name, "format": fmt, "set": set_name, "mode": mode, "ideal": ideal,
                     "efficiency": ideal / result["cycles"], "outputs": int(got.size)}


def children_cpu_s() -> float:
    """CPU seconds (user + system) of this process's finished child processes: the simulator's
    own cost, which, unlike wall time, another job on the machine does not inflate."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_layer_cocotb(core_name: str, set_name: str, mode: int,
                     timeout_cycles: int = LAYER_TIMEOUT_CYCLES) -> dict:
    """Build (once) and run the harness under cocotb on a whole-layer set; check all outputs."""
    core = CORES[core_name]
    vs = load_set(set_name)
    a_bits, fmt = int(vs.manifest["a_bits"]), set_format(vs)
    # the harness clocks and resets itself (HARNESS_CLOCK, --timing): no cocotb callback per
    # clock edge, so the cocotb run keeps up with the bare build
    build = build_model(f"layer-{core_name}-{fmt}-a{a_bits}-p{LAYER_PAR}-simclk", "conv_harness",
                        harness_sources(), harness_parameters(core, fmt, a_bits),
                        defines={"HARNESS_CLOCK": 1}, build_args=["--timing", "-CFLAGS", "-std=c++20"])
    # a run with its own timeout gets its own directory: it may run beside the same set's full run
    run_name = f"{set_name}-mode{mode}" + ("" if timeout_cycles == LAYER_TIMEOUT_CYCLES
                                           else f"-timeout{timeout_cycles}")
    run_dir = build / "runs" / run_name
    run_dir.mkdir(parents=True, exist_ok=True)
    out_file, result_file = run_dir / "out.txt", run_dir / "result.json"
    out_file.unlink(missing_ok=True)
    cpu_before = children_cpu_s()
    run_cocotb(build, "conv_harness", "conv_engine.cocotb_layer", run_name=run_name,
               plusargs=harness_plusargs(set_name, vs, mode, str(out_file), timeout_cycles),
               env={"CONV_LAYER_RESULT": str(result_file)})
    result = json.loads(result_file.read_text()) | {"cpu_s": children_cpu_s() - cpu_before}
    return _check_and_measure(core, set_name, vs, mode, out_file, result)


def build_bare(core_name: str, fmt: str, a_bits: int) -> Path:
    """`verilator --binary --timing -DHARNESS_CLOCK -DHARNESS_FINISH` build of the harness; returns
    the executable."""
    from filelock import FileLock

    core = CORES[core_name]
    build_dir = build_dir_for(f"bare-{core_name}-{fmt}-a{a_bits}-p{LAYER_PAR}")
    build_dir.parent.mkdir(parents=True, exist_ok=True)
    params = [f"-G{k}={v}" for k, v in harness_parameters(core, fmt, a_bits).items()]
    cmd = ["verilator", "--binary", "--timing", "-CFLAGS", "-std=c++20", "-DHARNESS_CLOCK",
           "-DHARNESS_FINISH", f"-I{RTL_DIR}",
           "--top-module", "conv_harness", "-Mdir", str(build_dir), "-o", "conv_harness", "-j", "2",
           "--MAKEFLAGS", " ".join(MAKE_OVERRIDES), *params, *map(str, harness_sources())]
    with FileLock(str(build_dir) + ".lock"):
        done = subprocess.run(cmd, env=verilator_env(), capture_output=True, text=True)
        (build_dir.parent / f"{build_dir.name}.build.log").write_text(done.stdout + done.stderr)
        if done.returncode:
            raise RuntimeError(f"bare build failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return build_dir / "conv_harness"


DONE_LINE = re.compile(r"conv_harness: done cycles=(\d+) beats=(\d+) status=(\w+) error=(\d)")


def run_layer_bare(core_name: str, set_name: str, mode: int) -> dict:
    """Run the bare harness executable on a whole-layer set; check all outputs."""
    core = CORES[core_name]
    vs = load_set(set_name)
    exe = build_bare(core_name, set_format(vs), int(vs.manifest["a_bits"]))
    run_dir = exe.parent / "runs" / f"{set_name}-mode{mode}"
    run_dir.mkdir(parents=True, exist_ok=True)
    out_file = run_dir / "out.txt"
    out_file.unlink(missing_ok=True)
    start, cpu_before = time.perf_counter(), children_cpu_s()
    done = subprocess.run([str(exe), *harness_plusargs(set_name, vs, mode, str(out_file))], cwd=run_dir,
                          capture_output=True, text=True)
    wall, cpu = time.perf_counter() - start, children_cpu_s() - cpu_before
    match = DONE_LINE.search(done.stdout)
    if done.returncode or not match or match.group(4) != "0":
        raise AssertionError(f"bare harness failed ({done.returncode}): "
                             f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    cycles = int(match.group(1))
    return _check_and_measure(core, set_name, vs, mode, out_file,
                              {"cycles": cycles, "wall_s": wall, "sim_cycles_per_s": cycles / wall,
                               "cpu_s": cpu})
