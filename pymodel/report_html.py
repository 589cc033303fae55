"""The report page: build/report/index.html and build/report/report.md with matplotlib figures.

`make report` runs this after `python -m pymodel report` has written build/report.json:

    python -m pymodel.report_html [--report build/report.json] [--synth build/synth/synth.json]
        [--bench build/bench_formats.json] [--headline build/headline/headline.json]
        [--out build/report] [--no-error-maps] [--screenshot build/report/screenshot.png]

Figures: fidelity vs storage (Pareto), LUT / FF / DSP per core x format and block at each
parameter set, cycles per weight format, the headline comparison with the papers, and the conv8
output error maps of a held-out crop. Every caption names the command that wrote its data and
when (the input's modification time). An input that is absent or unreadable gives a visible
"not generated: run `make ...`" placeholder instead of its figure; the page is always written.

It lives in pymodel (not scripts/) because the error maps reuse pymodel's own layer cache,
inputs and integer pipeline (pymodel.layer_cache.cached_layer, pymodel.report.int_pipeline_outputs)
in-process.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# input -> (default path, the command that writes it)
INPUTS = {
    "report": ("build/report.json", "make report (python -m pymodel report --json build/report.json)"),
    "synth": ("build/synth/synth.json", "make synth (python scripts/synth_yosys.py)"),
    "bench": ("build/bench_formats.json", "make bench-formats (python scripts/bench_formats.py)"),
    "headline": ("build/headline/headline.json", "make headline (python scripts/headline.py)"),
}
# synth_yosys.py's blocks, in stacking order (they add up to the core's LUT / FF / DSP48E1)
BLOCKS = ("products", "trees", "acc", "backend", "requant", "buffers", "select", "control")
SYNTH_METRICS = (("LUT", "LUT"), ("FF", "FF"), ("DSP48E1", "DSP48E1"))
# the error maps: the schemes that have a core, each pruning a core runs, refitted (as exported)
ERROR_MAP_SCHEMES = ("int8", "pot4", "apot6", "ios4", "ios4s")
ERROR_MAP_PRUNINGS = ("dense", "krp", "ikr")
ERROR_MAP_CROP = 0  # the held-out crop shown
FIG_PREFIX = "fig-"  # every figure this module writes; older ones are removed before a run
PRUNING_MARKERS = {"dense": "o", "unstructured": "P", "krp": "s", "ikr": "^"}


class ReportPageError(Exception):
    """A user error (bad option or path): one line on stderr, exit 2."""


@dataclass
class Source:
    """One JSON input: its data, or why it is missing, and who wrote it when."""

    key: str
    path: Path
    data: dict | None = None
    problem: str | None = None

    @property
    def command(self) -> str:
        return INPUTS[self.key][1]

    @property
    def make_target(self) -> str:
        return self.command.split(" (")[0]

    @property
    def written(self) -> str:
        return _utc(self.path.stat().st_mtime) if self.data is not None else "-"

    def caption(self) -> str:
        return f"Data: {self.path}, written {self.written} by `{self.command}`."

    def placeholder(self) -> str:
        return f"not generated: run `{self.make_target}` ({self.path}: {self.problem})"


def _utc(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))


def load_source(key: str, path: Path) -> Source:
    src = Source(key, Path(path))
    if not src.path.is_file():
        src.problem = "missing"
        return src
    try:
        data = json.loads(src.path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        src.problem = f"unreadable ({str(exc).splitlines()[0]})"
        return src
    if not isinstance(data, dict):
        src.problem = "not a JSON object"
        return src
    src.data = data
    return src


@dataclass
class Figure:
    png: str  # file name next to index.html
    caption: str


@dataclass
class Section:
    title: str
    anchor: str
    figures: list[Figure] = field(default_factory=list)
    tables: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)  # title, head, rows
    notes: list[str] = field(default_factory=list)
    placeholder: str | None = None
    preformatted: str | None = None


class _NoData(Exception):
    """The input is there but holds nothing this figure can show (the reason is the message)."""


def _new_figure(width: float, height: float):
    from matplotlib.figure import Figure as MplFigure  # no pyplot: no GUI backend, no global state

    return MplFigure(figsize=(width, height), dpi=100, layout="constrained")


def _save(fig, out: Path, name: str) -> str:
    png = f"{FIG_PREFIX}{name}.png"
    fig.savefig(out / png, dpi=100, metadata={"Software": None})
    return png


# ----------------------------------------------------------------------------- figures


def _finite(v) -> bool:
    return isinstance(v, int | float) and math.isfinite(v)


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats in both (larger x, larger y), by x."""
    front = []
    for i, (x, y) in enumerate(points):
        dominated = any(
            (x2 >= x and y2 >= y) and (x2 > x or y2 > y) for j, (x2, y2) in enumerate(points) if j != i
        )
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: points[i][0])


def fidelity_section(src: Source, out: Path) -> Section:
    sec = Section("Fidelity vs storage (scheme x pruning)", "fidelity")
    if src.data is None:
        sec.placeholder = src.placeholder()
        return sec
    rows = [r for r in src.data.get("rows", []) if isinstance(r, dict) and _finite(r.get("sqnr_db"))]
    if not rows:
        sec.placeholder = f"not generated: {src.path} has no rows with a finite sqnr_db (run `make report`)"
        return sec
    schemes = sorted({r["scheme"] for r in rows})
    import matplotlib as mpl
    import matplotlib.ticker  # noqa: F401  (mpl.ticker)

    colours = {s: mpl.colormaps["tab10"](i % 10) for i, s in enumerate(schemes)}
    fig = _new_figure(13, 5.5)
    axes = fig.subplots(1, 2, sharey=True)
    panels = (("ratio_vs_fp32", "fixed-width codes + metadata"),
              ("rans_ratio_vs_fp32", "entropy-coded (rANS)"))
    fronts = {}
    for ax, (key, what) in zip(axes, panels, strict=True):
        pts = [(r, r[key]) for r in rows if _finite(r.get(key))]
        for r, x in pts:
            hollow = r.get("refit") is False
            ax.scatter(x, r["sqnr_db"], marker=PRUNING_MARKERS.get(r["pruning"], "D"), s=42,
                       facecolors="none" if hollow else colours[r["scheme"]], edgecolors=colours[r["scheme"]],
                       linewidths=1.2)
        front = pareto_front([(x, r["sqnr_db"]) for r, x in pts])
        fronts[key] = [pts[i][0] for i in front]
        ax.step([pts[i][1] for i in front], [pts[i][0]["sqnr_db"] for i in front], where="post",
                color="0.3", lw=1, ls="--", label="Pareto front")
        for i in front:
            ax.annotate(pts[i][0]["name"], (pts[i][1], pts[i][0]["sqnr_db"]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(mpl.ticker.FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(mpl.ticker.FormatStrFormatter("%g"))
        ax.tick_params(axis="x", which="minor", labelsize=7)
        ax.set_xlabel(f"compression vs fp32 ({what}), x")
        ax.set_title(what)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("SQNR on held-out crops, dB (vs float conv8)")
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], ls="", marker="o", color=colours[s], label=s) for s in schemes]
    handles += [Line2D([], [], ls="", marker=PRUNING_MARKERS.get(p, "D"), color="0.2", label=p)
                for p in sorted({r["pruning"] for r in rows})]
    handles += [Line2D([], [], ls="", marker="o", mfc="none", color="0.2", label="no refit (hollow)"),
                Line2D([], [], ls="--", color="0.3", label="Pareto front")]
    axes[1].legend(handles=handles, fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    hd = src.data.get("header", {})
    png = _save(fig, out, "fidelity-storage")
    sec.figures.append(Figure(png, (
        f"SQNR (dB) of each scheme x pruning on {hd.get('heldout_crops', '?')} held-out crops against the "
        "float conv8 versus its storage compression over fp32 weights; left: fixed-width codes with "
        "their metadata, right: the rANS entropy-coded streams. The dashed line links the Pareto front "
        f"(no other layer is both smaller and more accurate). {src.caption()}")))
    for key, what in panels:
        sec.tables.append((f"Pareto front, {what}", ["layer", "SQNR dB", "int-pipe dB", "x vs fp32", "x rANS",
                                                     "density"],
                           [[r["name"], f"{r['sqnr_db']:.2f}", _num(r.get("int_pipeline_sqnr_db"), 2),
                             _num(r.get("ratio_vs_fp32"), 2), _num(r.get("rans_ratio_vs_fp32"), 2),
                             _num(r.get("density"), 3)] for r in fronts[key]]))
    return sec


def _num(v, digits: int) -> str:
    return f"{v:.{digits}f}" if _finite(v) else "-"


def _synth_runs(data: dict) -> list[dict]:
    runs = data.get("runs")
    if not isinstance(runs, list):
        raise _NoData("no runs list")
    good = [r for r in runs if isinstance(r, dict) and "error" not in r and _finite(r.get("LUT"))]
    if not good:
        raise _NoData("no successful run")
    return good


def synth_section(src: Source, out: Path) -> Section:
    sec = Section("LUT / FF / DSP per core x format and block", "synth")
    if src.data is None:
        sec.placeholder = src.placeholder()
        return sec
    try:
        runs = _synth_runs(src.data)
    except _NoData as exc:
        sec.placeholder = f"not generated: {src.path}: {exc} (run `make synth`)"
        return sec
    failed = [r.get("run", "?") for r in src.data["runs"] if isinstance(r, dict) and "error" in r]
    if failed:
        sec.notes.append(f"failed runs left out: {', '.join(failed)}")
    several_rtl = len({r.get("rtl") for r in runs}) > 1
    psets = list(dict.fromkeys(str(r.get("params", "?")) for r in runs))
    import matplotlib as mpl

    colours = {b: mpl.colormaps["tab10"](i) for i, b in enumerate(BLOCKS)}
    colours["other"] = "0.75"
    for pset in psets:
        group = [r for r in runs if str(r.get("params", "?")) == pset]
        labels = [(f"{r.get('rtl')}: " if several_rtl else "") + f"{r.get('core')} / {r.get('format')}"
                  for r in group]
        fig = _new_figure(14, 1.2 + 0.32 * len(group))
        axes = fig.subplots(1, 3, sharey=True)
        ypos = np.arange(len(group))
        for ax, (metric, title) in zip(axes, SYNTH_METRICS, strict=True):
            left = np.zeros(len(group))
            for block in (*BLOCKS, "other"):
                vals = []
                for r in group:
                    blocks = r.get("blocks") or {}
                    if block == "other":  # what the blocks do not cover (all of it without blocks)
                        covered = sum(float((blocks.get(b) or {}).get(metric, 0)) for b in BLOCKS)
                        vals.append(max(float(r.get(metric) or 0) - covered, 0.0))
                    else:
                        vals.append(float((blocks.get(block) or {}).get(metric, 0)))
                vals = np.array(vals)
                if vals.any():
                    ax.barh(ypos, vals, left=left, color=colours[block], label=block, height=0.75)
                left += vals
            for y, total in zip(ypos, left, strict=True):
                ax.text(total, y, f" {int(total):,}", va="center", fontsize=7)
            ax.set_title(title)
            ax.set_xlim(0, max(left.max() * 1.18, 1))
            ax.grid(True, axis="x", alpha=0.3)
        axes[0].set_yticks(ypos, labels, fontsize=8)
        axes[0].invert_yaxis()
        handles, names = [], []
        for ax in axes:
            for h, n in zip(*ax.get_legend_handles_labels(), strict=True):
                if n not in names:
                    handles.append(h)
                    names.append(n)
        order = [names.index(b) for b in (*BLOCKS, "other") if b in names]
        fig.legend([handles[i] for i in order], [names[i] for i in order], loc="outside lower center",
                   ncols=len(order), fontsize=8)
        params = (src.data.get("param_sets") or {}).get(pset) or group[0].get("parameters") or {}
        ptext = ", ".join(f"{k}={v}" for k, v in params.items())
        png = _save(fig, out, f"synth-{_slug(pset)}")
        sec.figures.append(Figure(png, (
            f"Parameter set {pset} ({ptext}): LUT (logic, LUTRAM apart), FF and DSP48E1 of each core x "
            f"weight format after {src.data.get('tool', 'Yosys')} ({src.data.get('flow', 'synth_xilinx')}), "
            "stacked by block (products, adder trees, accumulators, backend, requantizer, buffers, select, "
            f"control; 'other' = not attributed to a block). {src.caption()}")))
    head = ["params", "core", "format", "lanes", "LUT", "LUTRAM", "FF", "DSP48E1", "BRAM", "depth"]
    sec.tables.append(("Totals per run", head,
                       [[str(r.get("params", "")),
                         (f"{r.get('rtl')}: " if several_rtl else "") + str(r.get("core")),
                         str(r.get("format")), *(str(r.get(k, "")) for k in head[3:])] for r in runs]))
    return sec


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def bench_section(src: Source, out: Path) -> Section:
    sec = Section("Cycles per weight format (dense / KRP / IKR)", "cycles")
    if src.data is None:
        sec.placeholder = src.placeholder()
        return sec
    rows = [r for r in src.data.get("rows", []) if isinstance(r, dict) and _finite(r.get("cycles"))]
    if not rows:
        sec.placeholder = f"not generated: {src.path} has no rows with cycles (run `make bench-formats`)"
        return sec
    cores = list(dict.fromkeys(r["core"] for r in rows))
    formats = [f for f in ("dense", "krp", "ikr") if any(r.get("format") == f for r in rows)]
    formats += sorted({r.get("format") for r in rows} - set(formats))
    fig = _new_figure(11, 3.8)
    ax = fig.subplots()
    width = 0.8 / len(formats)
    for k, fmt in enumerate(formats):
        for i, core in enumerate(cores):
            r = next((r for r in rows if r["core"] == core and r.get("format") == fmt), None)
            if r is None:
                continue
            x = i + (k - (len(formats) - 1) / 2) * width
            ax.bar(x, r["cycles"] / 1e6, width * 0.95, color=f"C{k}", label=fmt if i == 0 else None)
            if _finite(r.get("ideal")):
                ax.plot([x - width / 2, x + width / 2], [r["ideal"] / 1e6] * 2, color="k", lw=1)
            speed = r.get("speedup_vs_dense")
            ax.text(x, r["cycles"] / 1e6, f"{speed:.2f}x" if _finite(speed) else "", ha="center",
                    va="bottom", fontsize=7)
    ax.set_xticks(range(len(cores)), cores)
    ax.set_ylabel("conv8 cycles, millions")
    ax.legend(title="format")
    ax.grid(True, axis="y", alpha=0.3)
    png = _save(fig, out, "cycles")
    targets = (src.data.get("targets") or {}).get("speedup") or {}
    ttext = ", ".join(f"{k} >= {v:.2f}x" for k, v in targets.items())
    sec.figures.append(Figure(png, (
        "Whole-conv8 cycles per core and weight format (bare Verilator runs, every output bit-exact "
        "against the vector set); black ticks: the ideal count, labels: speedup over the same core dense"
        f"{' (targets ' + ttext + ')' if ttext else ''}. {src.caption()}")))
    head = ["core", "format", "cycles", "ideal", "efficiency", "speedup vs dense", "wall s"]
    sec.tables.append(("Runs", head, [[str(r["core"]), str(r.get("format")), f"{r['cycles']:,}",
                                       f"{r['ideal']:,}" if _finite(r.get("ideal")) else "-",
                                       _num(r.get("efficiency"), 4), _num(r.get("speedup_vs_dense"), 2),
                                       _num(r.get("wall_s"), 1)] for r in rows]))
    return sec


def headline_section(src: Source, out: Path) -> Section:
    sec = Section("Headline: the cores at the papers' device budgets", "headline")
    if src.data is None:
        sec.placeholder = src.placeholder()
        return sec
    table = src.data.get("table")
    if not isinstance(table, dict) or not any(isinstance(v, dict) and v for v in table.values()):
        sec.placeholder = f"not generated: {src.path} has no table (run `make headline`)"
        return sec
    devices = [d for d, v in table.items() if isinstance(v, dict) and v]
    specs = src.data.get("devices") or {}
    fraction = src.data.get("fraction")
    n = max(len(table[d]) for d in devices)
    fig = _new_figure(6.5 * len(devices), 1.4 + 0.34 * n)
    axes = np.atleast_1d(fig.subplots(1, len(devices)))
    limits = sorted({str(p.get("limit", "?")) for d in devices for p in table[d].values()})
    colour = {lim: f"C{i}" for i, lim in enumerate(limits)}
    for ax, dev in zip(axes, devices, strict=True):
        items = sorted(table[dev].items(), key=lambda kv: kv[1].get("time_ms", math.inf))
        ypos = np.arange(len(items))
        for y, (_, p) in zip(ypos, items, strict=True):
            t = float(p.get("time_ms", 0))
            ax.barh(y, t, color=colour[str(p.get("limit", "?"))], height=0.75)
            ax.text(t, y, f" {t:.2f} ms, {p.get('PAR_IN')}x{p.get('PAR_OUT')}", va="center", fontsize=7)
        ax.set_yticks(ypos, [k for k, _ in items], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, max(float(p.get("time_ms", 0)) for p in table[dev].values()) * 1.45)
        ax.set_xlabel("conv8 time, ms")
        spec = specs.get(dev, {})
        budget = f" at {fraction:.0%} of {spec.get('LUT', '?'):,} LUT / {spec.get('DSP', '?')} DSP / " \
                 f"{spec.get('RAMB36', '?')} RAMB36" if _finite(fraction) and spec else ""
        ax.set_title(f"{dev}{budget}", fontsize=9)
        ax.grid(True, axis="x", alpha=0.3)
    from matplotlib.patches import Patch

    fig.legend([Patch(color=colour[lim]) for lim in limits], [f"limited by {lim}" for lim in limits],
               loc="outside lower center", ncols=len(limits), fontsize=8)
    png = _save(fig, out, "headline-time")
    sec.figures.append(Figure(png, (
        "conv8 time per core / weight format at each device budget: the largest PAR_IN x PAR_OUT that "
        "fits (a per-lane cost model from synth.json, block RAM counted from the real layer's buffers), "
        f"its ideal cycles at the slower of the clock target and the logic-depth proxy. {src.caption()}")))
    head = ["core/format", "PAR_IN x PAR_OUT", "lanes", "LUT", "DSP", "RAMB36", "MHz", "time ms", "limit"]
    for dev in devices:
        items = sorted(table[dev].items(), key=lambda kv: kv[1].get("time_ms", math.inf))
        sec.tables.append((dev, head, [[k, f"{p.get('PAR_IN')}x{p.get('PAR_OUT')}", str(p.get("lanes", "")),
                                        f"{p.get('LUT', 0):,}", str(p.get("DSP", "")),
                                        str(p.get("RAMB36", "")), _num(p.get("clock_MHz"), 1),
                                        _num(p.get("time_ms"), 2), str(p.get("limit", ""))]
                                       for k, p in items]))
    claims = [c for c in src.data.get("claims", []) if isinstance(c, dict)]
    if claims:
        sec.tables.append(("The papers' claims against ours", ["claim", "ours", "verdict", "why"],
                           [[str(c.get(k, "")) for k in ("claim", "ours", "verdict", "why")]
                            for c in claims]))
    return sec


# ----------------------------------------------------------------------------- error maps


def error_maps(conv8, acts, layers: dict, a_bits: int, out_frac: int, crop: int = ERROR_MAP_CROP) -> dict:
    """name -> |float ReLU(conv8) - dequantized integer output| of held-out crop `crop`, mean over
    the output channels, float64 [H, W] (pymodel.report.int_pipeline_outputs: the report's pipeline)."""
    from .report import int_pipeline_outputs

    if not 0 <= crop < acts.heldout_int.shape[0]:
        raise ValueError(f"held-out crop {crop} out of range (0..{acts.heldout_int.shape[0] - 1})")
    sub = _one_crop(acts, crop)
    maps = {}
    for name, layer in layers.items():
        ref, got = int_pipeline_outputs(layer, conv8, sub, a_bits, out_frac, crops=1)
        maps[name] = np.abs(ref[0] - got[0]).mean(axis=0)
    return maps


def _one_crop(acts, crop: int):
    from dataclasses import replace

    return replace(acts, heldout_float=acts.heldout_float[crop:crop + 1],
                   heldout_int=acts.heldout_int[crop:crop + 1])


def report_error_maps(header: dict, names: list[tuple[str, str]], weights_path: str | None = None) -> tuple:
    """(maps, photo, reference mean) for the report's inputs, or raise _NoData: loads conv8 and the
    activations as `pymodel report` did (its header: seed, a_bits, weights) and the cached layers."""
    from types import SimpleNamespace

    from . import reference as R
    from .inputs import load_inputs
    from .layer_cache import cached_layer

    weights = "synthetic" if header.get("weights_synthetic") else "auto"
    args = SimpleNamespace(weights=weights, weights_path=weights_path, seed=header.get("seed", 0))
    conv8, acts, out_frac = load_inputs(args, int(header.get("a_bits", 8)))
    if conv8.source != header.get("weights_source") or out_frac != header.get("out_frac"):
        raise _NoData(f"the report was computed from other inputs ({header.get('weights_source')}, "
                      f"out_frac {header.get('out_frac')}) than load here ({conv8.source}, out_frac "
                      f"{out_frac}): run `make report`")
    layers = {f"{s}-{p}": cached_layer(conv8, acts, s, p, True) for s, p in names}
    maps = error_maps(conv8, acts, layers, acts.a_bits, out_frac)
    ref = np.maximum(np.asarray(R.float_conv3x3(acts.heldout_float[ERROR_MAP_CROP:ERROR_MAP_CROP + 1],
                                                    conv8))[0], 0).mean(axis=0)
    photo = acts.heldout_photos[ERROR_MAP_CROP] if acts.heldout_photos else "?"
    return maps, photo, ref


def error_map_section(src: Source, out: Path, maps_or_reason, photo: str = "?", reference=None,
                      when: str | None = None) -> Section:
    sec = Section("conv8 output error maps (held-out crop)", "errors")
    if src.data is None:
        sec.placeholder = src.placeholder()
        return sec
    if isinstance(maps_or_reason, str):
        sec.placeholder = f"not generated: {maps_or_reason}"
        return sec
    maps = maps_or_reason
    cols = list(dict.fromkeys(n.split("-")[0] for n in maps))
    rows = list(dict.fromkeys(n.split("-", 1)[1] for n in maps))
    extra = 1 if reference is not None else 0
    fig = _new_figure(2.6 * (len(cols) + extra) + 0.8, 2.5 * len(rows) + 0.4)
    axes = np.atleast_2d(fig.subplots(len(rows), len(cols) + extra, squeeze=False))
    vmax = max(float(m.max()) for m in maps.values()) or 1.0
    image = None
    for i, pr in enumerate(rows):
        for j, sc in enumerate(cols):
            ax = axes[i, j + extra]
            ax.set_xticks([])
            ax.set_yticks([])
            m = maps.get(f"{sc}-{pr}")
            if m is None:
                ax.set_axis_off()
                continue
            image = ax.imshow(m, cmap="magma", vmin=0, vmax=vmax)
            ax.set_title(f"{sc}-{pr}\nmean {m.mean():.4f}", fontsize=8)
        if extra:
            ax = axes[i, 0]
            if i == 0:
                ref_image = ax.imshow(reference, cmap="viridis")
                ax.set_title("float ReLU(conv8)\nmean over channels", fontsize=8)
                fig.colorbar(ref_image, ax=ax, location="bottom", shrink=0.8)
            ax.set_axis_off()
    fig.colorbar(image, ax=axes[:, extra:].ravel().tolist(), shrink=0.8, label="|float - dequantized|")
    png = _save(fig, out, "error-maps")
    hd = src.data.get("header", {})
    sec.figures.append(Figure(png, (
        f"Per-pixel |float ReLU(conv8) - dequantized integer output| (the integer pipeline with its "
        f"power-of-two requantization, out * residual * 2^-{hd.get('out_frac', 'out_frac')}), mean over "
        f"the output channels, held-out crop {ERROR_MAP_CROP} (photo {photo}), refitted layers, one "
        f"colour scale. Computed {when or _utc(time.time())} by `make report` "
        f"(python -m pymodel.report_html, from the cached layers of the inputs of {src.path}, "
        f"written {src.written}).")))
    return sec


# ----------------------------------------------------------------------------- page


def _header_notes(report: Source) -> list[str]:
    if report.data is None:
        return []
    hd = report.data.get("header", {})
    notes = [f"Layer: {hd.get('layer', '?')}", f"Weights: {hd.get('weights_source', '?')}",
             f"Activations: {hd.get('activations_source', '?')}; a_bits={hd.get('a_bits')}, "
             f"{hd.get('heldout_crops', '?')} held-out crops"]
    if hd.get("weights_synthetic"):
        notes.insert(0, "WARNING: SYNTHETIC WEIGHTS (random, not the trained VGG16): accuracy numbers "
                        "are not representative")
    return notes


def text_table_section(report: Source) -> Section | None:
    if report.data is None:
        return None
    from .report import format_report

    try:
        text = format_report(report.data)
    except (KeyError, TypeError, ValueError) as exc:
        return Section("The full report table", "table", placeholder=f"not generated: {exc!r}")
    return Section("The full report table", "table", preformatted=text,
                   notes=[f"`{report.command}`, written {report.written}"])


def _html_text(text: str) -> str:
    """Escaped text with its `command` spans as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def render_html(sections: list[Section], notes: list[str], generated: str) -> str:
    e = _html_text
    parts = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>pot-conv report</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>pot-conv: VGG16 conv8 report</h1>", f'<p class="meta">Page generated {e(generated)} by '
             "<code>make report</code> (python -m pymodel.report_html).</p>"]
    parts += [f'<p class="{"warn" if n.startswith("WARNING") else "meta"}">{e(n)}</p>' for n in notes]
    parts.append("<nav><ul>" + "".join(f'<li><a href="#{s.anchor}">{e(s.title)}</a></li>' for s in sections)
                 + "</ul></nav>")
    for s in sections:
        parts.append(f'<section id="{s.anchor}"><h2>{e(s.title)}</h2>')
        if s.placeholder:
            parts.append(f'<div class="placeholder">{e(s.placeholder)}</div>')
        for n in s.notes:
            parts.append(f'<p class="meta">{e(n)}</p>')
        for f in s.figures:
            parts.append(f'<figure><img src="{html.escape(f.png)}" alt="{html.escape(s.title)}">'
                         f"<figcaption>{e(f.caption)}</figcaption></figure>")
        for title, head, rows in s.tables:
            parts.append(f"<h3>{e(title)}</h3><table><thead><tr>"
                         + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr></thead><tbody>"
                         + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows)
                         + "</tbody></table>")
        if s.preformatted:
            parts.append(f"<details><summary>show</summary><pre>{html.escape(s.preformatted)}</pre></details>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def render_markdown(sections: list[Section], notes: list[str], generated: str) -> str:
    def cell(c: str) -> str:
        return c.replace("|", "\\|").replace("\n", " ")

    lines = ["# pot-conv: VGG16 conv8 report", "",
             f"Page generated {generated} by `make report` (python -m pymodel.report_html).", ""]
    lines += [f"{'**' + n + '**' if n.startswith('WARNING') else n}  " for n in notes]
    for s in sections:
        lines += ["", f"## {s.title}", ""]
        if s.placeholder:
            lines += [f"> **{s.placeholder}**", ""]
        lines += [f"{n}  " for n in s.notes]
        for f in s.figures:
            lines += [f"![{s.title}]({f.png})", "", f"*{f.caption}*", ""]
        for title, head, rows in s.tables:
            lines += [f"### {title}", "", "| " + " | ".join(cell(h) for h in head) + " |",
                      "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
            lines.append("")
        if s.preformatted:
            lines += ["```", s.preformatted, "```"]
    return "\n".join(lines) + "\n"


_CSS = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1400px; color: #222; }
h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
figure { margin: 1em 0; } img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #444; max-width: 1100px; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1em; }
td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: left; }
.placeholder { background: #fff3cd; border: 2px dashed #d39e00; padding: 1em; font-weight: bold; }
.warn { background: #f8d7da; padding: 0.5em; font-weight: bold; } .meta { color: #555; margin: 0.2em 0; }
pre { font-size: 0.75em; overflow-x: auto; }
"""


def _guarded(make_section, src: Source, out: Path) -> Section:
    """The section, or a placeholder naming the input when its layout is not the expected one."""
    try:
        return make_section(src, out)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        sec = make_section(Source(src.key, src.path, problem="-"), out)  # the title and anchor
        sec.placeholder = (f"not generated: {src.path} does not have the layout `{src.make_target}` writes "
                           f"({type(exc).__name__}: {exc}); re-run `{src.make_target}`")
        return sec


def build_page(paths: dict[str, Path], out: Path, maps=None, weights_path: str | None = None) -> Path:
    """Write out/index.html, out/report.md and the figures; returns index.html. `maps`: None computes
    the error maps from the report's inputs, a dict (name -> [H, W]) or a string (why not) is used as is."""
    import matplotlib

    matplotlib.use("Agg")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob(f"{FIG_PREFIX}*.png"):
        old.unlink()
    src = {k: load_source(k, Path(paths.get(k) or INPUTS[k][0])) for k in INPUTS}
    sections = [_guarded(fidelity_section, src["report"], out), _guarded(synth_section, src["synth"], out),
                _guarded(bench_section, src["bench"], out), _guarded(headline_section, src["headline"], out)]
    photo, reference, when = "?", None, None
    if maps is None and src["report"].data is not None:
        names = [(r["scheme"], r["pruning"]) for r in src["report"].data.get("rows", [])
                 if r.get("refit") is True and not r.get("retrain") and r.get("scheme") in ERROR_MAP_SCHEMES
                 and r.get("pruning") in ERROR_MAP_PRUNINGS]
        names = sorted(set(names), key=lambda sp: (ERROR_MAP_PRUNINGS.index(sp[1]),
                                                   ERROR_MAP_SCHEMES.index(sp[0])))
        try:
            if not names:
                raise _NoData(f"{src['report'].path} has none of the refitted "
                              f"{'/'.join(ERROR_MAP_SCHEMES)} x {'/'.join(ERROR_MAP_PRUNINGS)} layers")
            header = src["report"].data.get("header", {})
            maps, photo, reference = report_error_maps(header, names, weights_path)
            when = _utc(time.time())
        except _NoData as exc:
            maps = str(exc)
        except (ImportError, ValueError, OSError, RuntimeError) as exc:  # e.g. the weights are gone
            maps = f"could not load the report's inputs: {str(exc).splitlines()[0] if str(exc) else exc!r}"
    elif maps is None:
        maps = "no report"
    sections.append(error_map_section(src["report"], out, maps, photo, reference, when))
    table = text_table_section(src["report"])
    if table:
        sections.append(table)
    generated = _utc(time.time())
    notes = _header_notes(src["report"])
    index = out / "index.html"
    index.write_text(render_html(sections, notes, generated))
    (out / "report.md").write_text(render_markdown(sections, notes, generated))
    return index


# ----------------------------------------------------------------------------- browser check


def find_chromium() -> str | None:
    found = (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome"))
    return next((p for p in found if p), None)


def screenshot(page: Path, png: Path, width: int = 1400, height: int = 8000, timeout: float = 120) -> Path:
    """Render `page` in headless Chromium and write a width x height PNG screenshot of it."""
    exe = find_chromium()
    if exe is None:
        raise ReportPageError("chromium not found (apt-get install chromium)")
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
           "--disable-dev-shm-usage", f"--window-size={width},{height}", f"--screenshot={png.resolve()}",
           page.resolve().as_uri()]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise ReportPageError(f"chromium took over {timeout:.0f} s to render {page}") from exc
    if not png.is_file():
        raise ReportPageError(f"chromium wrote no screenshot (exit {proc.returncode}): "
                              f"{(proc.stderr.strip().splitlines() or [''])[-1]}")
    return png


def _trim_bottom(png: Path, margin: int = 40) -> Path:
    """Cut the blank rows below the page's end (the window is taller than most pages)."""
    from PIL import Image

    with Image.open(png) as im:
        grey = np.asarray(im.convert("L"))
        used = np.flatnonzero((grey < 250).any(axis=1))
        if used.size and used[-1] + margin < grey.shape[0]:
            im.crop((0, 0, im.width, used[-1] + margin)).save(png)
    return png


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pymodel.report_html", description=__doc__.splitlines()[0])
    for key, (default, command) in INPUTS.items():
        ap.add_argument(f"--{key}", type=Path, default=Path(default),
                        help=f"written by {command} (default {default})")
    ap.add_argument("--out", type=Path, default=Path("build/report"),
                    help="output directory (default build/report)")
    ap.add_argument("--error-maps", action=argparse.BooleanOptionalAction, default=True,
                    help="compute the conv8 error maps from the report's inputs (default on)")
    ap.add_argument("--weights-path", default=None, help="the weights file the report was run with, if any")
    ap.add_argument("--screenshot", type=Path, default=None,
                    help="also render the page in headless chromium to this PNG")
    args = ap.parse_args(argv)
    try:
        if args.out.exists() and not args.out.is_dir():
            raise ReportPageError(f"--out {args.out}: not a directory")
        paths = {k: getattr(args, k) for k in INPUTS}
        index = build_page(paths, args.out, None if args.error_maps else "skipped (--no-error-maps)",
                           args.weights_path)
        print(f"wrote {index} and {args.out / 'report.md'}")
        if args.screenshot:
            print(f"wrote {_trim_bottom(screenshot(index, args.screenshot))}")
    except (ReportPageError, OSError) as exc:
        print(f"report_html: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
