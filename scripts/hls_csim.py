#!/usr/bin/env python3
"""C-simulation of the HLS kernels with plain g++ (no Xilinx tools needed).

Builds a testbench (hls/tb/tb_conv_<kernel>.cpp + hls/conv_<kernel>.cpp) against the
`ap_types` headers: `$XILINX_HLS/include` when XILINX_HLS is set, else the copy inside the
PyPI package hls4ml (located at run time, never vendored). Each configuration builds into its
own directory under build/hls/csim/ and is rebuilt only when a source or a flag changes.

    python scripts/hls_csim.py --layer              # every whole-conv8 run, one table of figures
    python scripts/hls_csim.py --tiles              # every build x its tile and stress sets
    python scripts/hls_csim.py --kernel shift --format krp [--define CONV_PAR_IN=8 ...] DIR...

The build matrix (BUILDS) and the whole-layer runs (LAYER_RUNS) are also what
tests/hls/test_hls_csim.py sweeps.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from pymodel import contract, registry  # noqa: E402

HLS = Path(os.environ.get("CONV_HLS_DIR", REPO / "hls"))  # a scratch copy, e.g. to prove the tests bite
BUILD_ROOT = REPO / "build" / "hls" / "csim"
VECTORS = Path(os.environ.get("CONV_VECTOR_DIR", REPO / "build" / "vectors")).resolve()
FORMATS = registry.formats()
# the kernels (one per product unit) and the codes each runs, from spec/cores.hjson
KERNELS = tuple(unit.kernel for unit in registry.arithmetics().values())
HLS_CORES = registry.hls_cores()  # scheme -> the core whose code it is
# The ap_types headers are system headers; their own constructors trip g++'s
# (maybe-)uninitialized analysis, and HLS pragmas and loop labels are unknown to g++ by design.
CXXFLAGS = ["-std=c++14", "-Wall", "-Wextra", "-Wno-unknown-pragmas", "-Wno-unused-label",
            "-Wno-maybe-uninitialized", "-Wno-uninitialized"]
# Builds that run a whole conv8 layer: -O3, which runs it ~2.5x faster than -O2. The others
# only run tiles, where the compile is the cost: -O1 compiles in ~0.55x of -O3's time (16 s
# against 28 s for a 5x3 shift build), and the kernels are then checked at two optimization levels.
OPT_LAYER, OPT_TILES = "-O3", "-O1"


class CsimError(RuntimeError):
    """A build or set-up problem (missing headers, compiler errors)."""


def ap_types_dir() -> Path:
    """The directory holding ap_int.h / hls_stream.h."""
    xilinx = os.environ.get("XILINX_HLS")
    if xilinx:
        inc = Path(xilinx) / "include"
        if not (inc / "ap_int.h").is_file():
            raise CsimError(f"XILINX_HLS={xilinx}, but {inc}/ap_int.h does not exist")
        return inc
    try:
        import hls4ml  # noqa: PLC0415 - optional dependency, only its headers are used
    except ImportError as e:
        raise CsimError("no ap_types headers: install hls4ml (`make setup`) or set XILINX_HLS") from e
    inc = Path(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types"
    if not (inc / "ap_int.h").is_file() or not (inc / "hls_stream.h").is_file():
        raise CsimError(f"hls4ml is installed but {inc} lacks ap_int.h / hls_stream.h")
    return inc


@dataclass(frozen=True)
class Build:
    """One testbench configuration: kernel, weight format and CONV_* macros."""

    kernel: str
    fmt: str
    defines: tuple[tuple[str, int], ...] = ()
    scheme_tag: str = ""   # the vector sets it runs (e.g. pot4)
    a_bits: int = 8
    tb: str = ""           # testbench source under hls/tb (default tb_conv_<kernel>)

    @property
    def name(self) -> str:
        d = dict(self.defines)
        par = f"p{d.get('CONV_PAR_IN', 16)}x{d.get('CONV_PAR_OUT', 16)}"
        extra = "".join(f"-{k[5:].lower()}{v}" for k, v in self.defines
                        if k not in ("CONV_PAR_IN", "CONV_PAR_OUT") and (k, v) not in SMALL)
        tb = f"-{self.tb}" if self.tb else ""
        return f"{self.kernel}-{self.scheme_tag}-{self.fmt}-{par}-a{self.a_bits}{extra}{tb}"

    def macros(self) -> dict[str, int]:
        m = {"CONV_FORMAT": FORMATS[self.fmt], "CONV_A_BITS": self.a_bits}
        m.update(SCHEME_DEFINES[self.scheme_tag])
        m.update(dict(self.defines))
        return m

    def accepts(self, manifest: dict) -> bool:
        """Whether this build runs the vector set (scheme, widths, format, sizes)."""
        layer = manifest["layer"]
        m = self.macros()
        fits = (layer["cin"] <= m.get("CONV_CIN_MAX", 256) and layer["cout"] <= m.get("CONV_COUT_MAX", 512)
                and layer["h"] <= m.get("CONV_H_MAX", 28) and layer["w"] <= m.get("CONV_W_MAX", 28))
        fmt_ok = self.fmt == "dense" or manifest["pruning"] == self.fmt
        return (manifest["scheme_tag"] == self.scheme_tag and manifest["a_bits"] == self.a_bits
                and fmt_ok and fits)


SCHEME_KERNEL = {scheme: core.unit.kernel for scheme, core in HLS_CORES.items()}
SCHEME_DEFINES = {scheme: core.hls_defines() for scheme, core in HLS_CORES.items()}
SMALL = (("CONV_H_MAX", 16), ("CONV_W_MAX", 16), ("CONV_CIN_MAX", 64), ("CONV_COUT_MAX", 128))


def _builds() -> list[Build]:
    out = []
    for tag, core in HLS_CORES.items():
        kernel = core.unit.kernel
        for fmt in core.hls:
            # conv8 maxima at 16x16 lanes (the whole-layer configuration), and an odd 5x3
            # unroll with small maxima: Cin/Cout not multiples of the unroll, padding lanes.
            out.append(Build(kernel, fmt, (), tag))
            out.append(Build(kernel, fmt, (("CONV_PAR_IN", 5), ("CONV_PAR_OUT", 3)) + SMALL, tag))
    # one input lane / two output lanes, and the A_BITS variants of the exported tiles
    out.append(Build("shift", "dense", (("CONV_PAR_IN", 1), ("CONV_PAR_OUT", 2)) + SMALL, "pot4"))
    out.append(Build("plut", "ikr", (("CONV_PAR_IN", 1), ("CONV_PAR_OUT", 2)) + SMALL, "ios4"))
    out.append(Build("mult", "dense", (), "int4", a_bits=4))
    out.append(Build("plut", "krp", (), "ios4", a_bits=4))
    out.append(Build("shift", "dense", (), "pot4", a_bits=6))
    out.append(Build("shift", "krp", (), "apot6", a_bits=6))
    return out


BUILDS = _builds()

# Whole conv8 layer (256 -> 512, 28x28), both output modes: (build, vector set), the registry's
# hls_layer runs.
LAYER_RUNS = [(Build(core.unit.kernel, fmt, (), tag), f"{tag}-{fmt}")
              for tag, core in HLS_CORES.items() for fmt in core.hls_layer]
LAYER_BUILDS = frozenset(b for b, _ in LAYER_RUNS)


@dataclass
class Compiled:
    exe: Path
    warnings: str = ""
    seconds: float = 0.0
    cached: bool = False


def build(b: Build, root: Path = BUILD_ROOT, optimize: str | None = None) -> Compiled:
    """Compile the testbench of `b` (cached by a hash of sources, flags and headers), at
    `optimize`, or by default at OPT_LAYER if it runs a whole layer and OPT_TILES if not."""
    if optimize is None:
        optimize = OPT_LAYER if b in LAYER_BUILDS else OPT_TILES
    inc = ap_types_dir()
    tb = b.tb or f"tb_conv_{b.kernel}"
    sources = [HLS / f"conv_{b.kernel}.cpp", HLS / "tb" / f"{tb}.cpp"]
    headers = [*sorted((HLS / "include").glob("*.h")), *sorted((HLS / "tb").glob("*.h")),
               HLS / f"conv_{b.kernel}.h"]
    flags = [optimize, *CXXFLAGS, *(f"-D{k}={v}" for k, v in sorted(b.macros().items()))]
    cmd = ["g++", *flags, "-isystem", str(inc), f"-I{HLS / 'include'}", f"-I{HLS}", f"-I{HLS / 'tb'}",
           *map(str, sources), "-o"]
    h = hashlib.sha256(" ".join(cmd).encode())
    for p in sources + headers:
        h.update(p.read_bytes())
    digest = h.hexdigest()[:16]
    out = root / b.name
    out.mkdir(parents=True, exist_ok=True)
    exe, stamp, log = out / tb, out / "build.sha", out / "build.log"
    with open(out / ".lock", "w") as lock:  # parallel pytest workers may share a build
        fcntl.flock(lock, fcntl.LOCK_EX)
        if exe.is_file() and stamp.is_file() and stamp.read_text() == digest:
            return Compiled(exe, log.read_text() if log.is_file() else "", 0.0, True)
        t0 = time.perf_counter()
        proc = subprocess.run([*cmd, str(exe)], capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        log.write_text(proc.stderr)
        if proc.returncode != 0:
            raise CsimError(f"g++ failed for {b.name} (log: {log}):\n{proc.stderr[-4000:]}")
        stamp.write_text(digest)
        return Compiled(exe, proc.stderr, seconds)


@dataclass
class RunResult:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    sets: list[dict] = field(default_factory=list)  # the testbench's --json records, one per set

    @property
    def passed(self) -> list[str]:
        return [r["name"] for r in self.sets if r["passed"]]

    def modes(self, name: str) -> dict[str, dict]:
        """mode ("0", "1") -> {checked, mismatches, seconds} (or {skipped}) of set `name`."""
        return next(r["modes"] for r in self.sets if r["name"] == name)


def run(exe: Path, dirs: list[Path], modes: str = "0,1", timeout: float = 900) -> RunResult:
    """Run a testbench; its results come back as JSON (--json), the text is for people."""
    with tempfile.TemporaryDirectory(prefix="csim-") as tmp:
        results = Path(tmp) / "results.json"
        t0 = time.perf_counter()
        proc = subprocess.run([str(exe), "--modes", modes, "--json", str(results), *map(str, dirs)],
                              capture_output=True, text=True, timeout=timeout)
        seconds = time.perf_counter() - t0
        sets = json.loads(results.read_text())["sets"] if results.is_file() else []
    return RunResult(proc.returncode, proc.stdout, proc.stderr, seconds, sets)


def vector_sets(root: Path = VECTORS) -> dict[str, dict]:
    """name -> manifest of every exported set under root (each checked by pymodel's reader, so a
    malformed one stops the run with one line naming it instead of being selected or skipped)."""
    from pymodel import vectors as V  # noqa: PLC0415 - only the selection needs it

    out = {}
    for m in sorted(root.glob("*/manifest.json")):
        try:
            out[m.parent.name] = V.read_manifest(m.parent)
        except V.VectorFormatError as e:
            raise CsimError(f"{m.parent}: {e} (python -m pymodel check {m.parent})") from None
    return out


def tile_sets(b: Build, sets: dict[str, dict]) -> list[str]:
    """The tile and stress sets (not the whole layer) that build `b` runs."""
    return [n for n, m in sets.items() if b.accepts(m) and (m.get("tile") or m.get("stress"))]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, as every bad input of the project
        sys.stderr.write(f"hls-csim: error: {message} (see --help)\n")
        raise SystemExit(2)


def _a_bits(text: str) -> int:
    lo, hi = contract.A_BITS_RANGE
    if not text.isdigit() or not lo <= int(text) <= hi:
        raise argparse.ArgumentTypeError(f"--a-bits {text!r}: the kernels support A_BITS {lo}..{hi}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    ap = _Parser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--layer", action="store_true", help="every whole-layer run, with a table of figures")
    ap.add_argument("--tiles", action="store_true", help="every build x its tile and stress sets")
    ap.add_argument("--kernel", choices=KERNELS, help="build and run one kernel's testbench on DIRS")
    ap.add_argument("--format", choices=FORMATS, default="dense", help="weight format (default dense)")
    ap.add_argument("--scheme", choices=SCHEME_KERNEL, help="scheme tag of the sets (default: the kernel's)")
    ap.add_argument("--a-bits", type=_a_bits, default=8, help="activation bits of the build")
    ap.add_argument("--define", action="append", default=[], metavar="NAME=VALUE", help="extra CONV_* macro")
    ap.add_argument("--modes", default="0,1", help="output modes to run: 0, 1 or 0,1 (default)")
    ap.add_argument("--vectors", type=Path, default=VECTORS,
                    help="vector directory; with --kernel, set names are looked up in it")
    ap.add_argument("dirs", nargs="*", type=Path, help="vector set directories (or names under --vectors)")
    args = ap.parse_args(argv)
    try:
        if args.layer:
            return _run_layer(args.vectors, args.modes)
        if args.tiles:
            return _run_tiles(args.vectors, args.modes)
        if not args.kernel or not args.dirs:
            ap.error("give --layer, --tiles, or --kernel with vector set directories")
        defines = []
        for d in args.define:
            k, sep, v = d.partition("=")
            if not sep or not re.fullmatch(r"CONV_[A-Z0-9_]+", k) or not v.isdigit():
                ap.error(f"--define {d!r}: expected CONV_NAME=<integer>")
            defines.append((k, int(v)))
        tag = args.scheme or registry.hls_default(args.kernel).scheme
        if SCHEME_KERNEL[tag] != args.kernel:
            ap.error(f"--scheme {tag} is run by the {SCHEME_KERNEL[tag]} kernel, not {args.kernel}")
        dirs = [(d if d.is_absolute() or d.exists() else args.vectors / d).resolve() for d in args.dirs]
        # the directories may hold whole layers
        c = build(Build(args.kernel, args.format, tuple(defines), tag, args.a_bits), optimize=OPT_LAYER)
        r = run(c.exe, dirs, args.modes)
        sys.stdout.write(r.stdout)
        sys.stderr.write(r.stderr)
        return r.returncode
    except CsimError as e:
        print(f"hls-csim: {e}", file=sys.stderr)
        return 2


def _run_layer(vectors: Path, modes: str) -> int:
    rows, rc = [], 0
    for b, name in LAYER_RUNS:
        c = build(b)
        r = run(c.exe, [vectors / name], modes)
        sys.stdout.write(r.stdout)
        sys.stderr.write(r.stderr)
        rc |= r.returncode
        record = next((x for x in r.sets if x["name"] == name), {"modes": {}, "steps": "?"})
        rows.append((b.kernel, name, b.fmt, record["modes"], record["steps"], r.seconds,
                     "PASS" if r.returncode == 0 else "FAIL"))
    print("\n| kernel | vector set | format | mode 0 checked / mismatches / s "
          "| mode 1 checked / mismatches / s | pipeline steps (cycles at II=1) | wall s | result |")
    print("|---|---|---|---|---|---|---|---|")
    for kernel, name, fmt, by_mode_record, steps, secs, res in rows:
        by_mode = {m: f"{x['checked']} / {x['mismatches']} / {x['seconds']:.2f}" if "checked" in x
                   else "skipped" for m, x in by_mode_record.items()}
        print(f"| {kernel} | {name} | {fmt} | {by_mode.get('0', '-')} | {by_mode.get('1', '-')} | {steps} "
              f"| {secs:.1f} | {res} |")
    return rc


def _run_tiles(vectors: Path, modes: str) -> int:
    sets, rc = vector_sets(vectors), 0
    for b in BUILDS:
        names = tile_sets(b, sets)
        c = build(b)
        r = run(c.exe, [vectors / n for n in names], modes)
        rc |= r.returncode
        status = "ok" if r.returncode == 0 and len(r.passed) == len(names) else "FAILED"
        print(f"{b.name}: {len(r.passed)}/{len(names)} sets bit-exact, {r.seconds:.1f} s {status}")
        if status != "ok":
            sys.stdout.write(r.stdout + r.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
