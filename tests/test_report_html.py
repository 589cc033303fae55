"""pymodel.report_html: the report page from small JSON inputs written here (no real `make report`),
its figures and captions, placeholders for missing / broken inputs, the error maps against an
independent pipeline, and the page rendered in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from pymodel import metrics, report_html  # noqa: E402
from pymodel import reference as R  # noqa: E402
from pymodel.activations import ActivationSet  # noqa: E402
from pymodel.schemes import make_layer  # noqa: E402
from pymodel.types import ConvWeights  # noqa: E402

SCHEMES = ("int8", "int4", "pot4", "apot6", "ios4")
PRUNINGS = ("dense", "unstructured", "krp", "ikr")
CORES = ("mult_int8", "shift_pot4", "plut_ios4")
PSETS = {"p4x4": (4, 4), "p4x16": (4, 16)}
STAMP = time.mktime((2026, 3, 4, 5, 6, 7, 0, 0, -1))  # a known mtime every caption must show


def _report(rng) -> dict:
    rows = []
    for s in SCHEMES:
        for p in PRUNINGS:
            for refit in (True, False):
                kept = 3 if p in ("krp", "unstructured") else 9 / 4 if p == "ikr" else 1
                ratio = 32 / (int(s[-1]) + 0.3) * kept
                rows.append({"scheme": s, "pruning": p, "refit": refit, "retrain": None,
                             "name": f"{s}-{p}-{'refit' if refit else 'norefit'}",
                             "sqnr_db": float(rng.uniform(5, 40)),
                             "int_pipeline_sqnr_db": float(rng.uniform(5, 30)),
                             "cosine": 0.99, "density": 1.0 if p == "dense" else 0.33, "ratio_vs_fp32": ratio,
                             "rans_ratio_vs_fp32": ratio * float(rng.uniform(1, 1.6)), "total_bits": 1000,
                             "metadata_bits": 10})
    return {"header": {"layer": "conv8", "weights_source": "synthetic (test)", "weights_synthetic": True,
                       "activations_source": "random", "a_bits": 8, "a_frac": 4, "out_frac": 3,
                       "heldout_crops": 2, "seed": 0}, "rows": rows}


def _synth(rng) -> dict:
    runs = []
    for pset, (pi, po) in PSETS.items():
        for core in CORES:
            for fmt in ("dense", "krp"):
                blocks = {b: {"LUT": int(rng.integers(10, 500)), "FF": int(rng.integers(10, 500)),
                              "DSP48E1": pi * po if b == "products" and core == "mult_int8" else 0,
                              "LUTRAM": 0} for b in report_html.BLOCKS}
                runs.append({"run": f"{core}-{fmt}-{pset}", "rtl": "after", "core": core, "format": fmt,
                             "params": pset, "lanes": pi * po, "LUTRAM": 32, "BRAM": 0, "depth": 17,
                             **{m: sum(b[m] for b in blocks.values()) for m in ("LUT", "FF", "DSP48E1")},
                             "blocks": blocks})
    runs.append({"run": "plut_ios4-ikr-p4x4", "rtl": "after", "core": "plut_ios4", "format": "ikr",
                 "params": "p4x4", "error": "yosys failed"})
    return {"tool": "Yosys (test)", "flow": "synth_xilinx", "param_sets": {
        k: {"PAR_IN": pi, "PAR_OUT": po} for k, (pi, po) in PSETS.items()}, "runs": runs}


def _bench() -> dict:
    dense = 3_613_165
    rows = [{"core": c, "format": f, "cycles": int(dense / s), "ideal": int(dense / s) - 400,
             "efficiency": 0.999, "speedup_vs_dense": s, "wall_s": 5.0} for c in ("mult-int8", "shift-pot4")
            for f, s in (("dense", 1.0), ("krp", 3.0), ("ikr", 2.25))]
    return {"rows": rows, "targets": {"speedup": {"krp": 2.85, "ikr": 2.14}}}


def _headline() -> dict:
    table = {dev: {f"{c}/dense": {"PAR_IN": 16, "PAR_OUT": 32, "lanes": 512, "LUT": 20000 + i, "DSP": 0,
                                  "RAMB36": 50, "clock_MHz": 148.1, "time_ms": 8.5 * (i + 1), "limit": lim}
                   for i, (c, lim) in enumerate(zip(CORES, ("DSP", "LUT", "RAMB36"), strict=True))}
             for dev in ("xc7z035", "xck26")}
    return {"fraction": 0.7, "devices": {"xc7z035": {"LUT": 171900, "DSP": 900, "RAMB36": 500},
                                         "xck26": {"LUT": 117120, "DSP": 1248, "RAMB36": 144}},
            "table": table, "claims": [{"claim": "pot4 vs int8: -51.1 % time", "ours": "-50.0 % time",
                                        "verdict": "reproduced", "why": "twice the lanes"}]}


def _write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    os.utime(path, (STAMP, STAMP))
    return path


def _inputs(tmp_path: Path, keys=("report", "synth", "bench", "headline")) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    makers = {"report": lambda: _report(rng), "synth": lambda: _synth(rng), "bench": _bench,
              "headline": _headline}
    paths = {k: tmp_path / "in" / f"{k}.json" for k in report_html.INPUTS}
    for k in keys:
        _write(paths[k], makers[k]())
    return paths


def _maps(rng) -> dict:
    return {f"{s}-{p}": rng.uniform(0, 0.1, (6, 6)) for s in report_html.ERROR_MAP_SCHEMES
            for p in report_html.ERROR_MAP_PRUNINGS}


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.captions, self.placeholders, self._in = [], [], [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a["src"])
        if tag == "figcaption" or a.get("class") == "placeholder":
            self._in = tag
            (self.captions if tag == "figcaption" else self.placeholders).append("")

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in:
            (self.captions if self._in == "figcaption" else self.placeholders)[-1] += data


def _parse(index: Path) -> _Page:
    page = _Page()
    page.feed(index.read_text())
    return page


@pytest.fixture(scope="module")
def full_page(tmp_path_factory) -> tuple[Path, Path, dict]:
    """(index.html, its directory, the input paths) of a page with every input (built once: ~5 s)."""
    tmp = tmp_path_factory.mktemp("page")
    paths = _inputs(tmp)
    index = report_html.build_page(paths, tmp / "report", maps=_maps(np.random.default_rng(1)))
    return index, tmp / "report", paths


def test_page_has_every_figure_with_its_command_and_time(full_page):
    index, out, paths = full_page
    page = _parse(index)
    expected = {"fig-fidelity-storage.png", "fig-synth-p4x4.png", "fig-synth-p4x16.png", "fig-cycles.png",
                "fig-headline-time.png", "fig-error-maps.png"}
    assert set(page.imgs) == expected and not page.placeholders
    for src in page.imgs:
        assert (out / src).is_file() and (out / src).stat().st_size > 5000, src
    written = report_html._utc(STAMP)
    *data_captions, maps_caption = page.captions
    for key, caption in zip(("report", "synth", "synth", "bench", "headline"), data_captions, strict=True):
        assert report_html.INPUTS[key][1] in caption and written in caption, (key, caption)
        assert str(paths[key]) in caption
    # the error maps are computed by the page itself, from the report's inputs
    assert "make report (python -m pymodel.report_html" in maps_caption and written in maps_caption
    html_text = index.read_text()
    assert "yosys failed" not in html_text and "plut_ios4-ikr-p4x4" in html_text  # the failed run is named
    assert "SYNTHETIC WEIGHTS" in html_text
    md = (out / "report.md").read_text()
    for src in expected:
        assert f"]({src})" in md
    assert md.count(written) >= len(expected)  # every caption, in the Markdown too


def test_missing_and_broken_inputs_give_placeholders(tmp_path: Path):
    paths = _inputs(tmp_path, keys=("report",))
    _write(paths["headline"], "{not json")
    out = tmp_path / "report"
    (out).mkdir()
    (out / "fig-cycles.png").write_bytes(b"stale")  # a figure of an earlier run must not survive
    index = report_html.build_page(paths, out, maps="skipped in the test")
    page = _parse(index)
    assert page.imgs == ["fig-fidelity-storage.png"]
    assert not (out / "fig-cycles.png").exists()
    text = " | ".join(page.placeholders)  # the page shows `...` as <code>
    assert "not generated: run make synth" in text and "not generated: run make bench-formats" in text
    assert "not generated: run make headline" in text and "unreadable" in text
    assert "<code>make synth</code>" in index.read_text()
    assert "not generated: skipped in the test" in text
    md = (out / "report.md").read_text()
    assert "not generated: run `make synth`" in md

    _write(paths["synth"], {"runs": [{"core": "x", "LUT": 1, "blocks": "not a dict"}]})  # another layout
    _write(paths["bench"], {"rows": [{"cycles": 5}]})
    page = _parse(report_html.build_page(paths, out, maps="skipped"))
    text = " | ".join(page.placeholders)
    assert text.count("does not have the layout") == 2 and "re-run make synth" in text

    nothing = report_html.build_page({k: tmp_path / "none" / f"{k}.json" for k in report_html.INPUTS},
                                     tmp_path / "empty")
    page = _parse(nothing)
    assert not page.imgs and len(page.placeholders) == 5
    assert "not generated: run make report" in page.placeholders[0]


def test_pareto_front_is_the_non_dominated_set():
    rng = np.random.default_rng(3)
    pts = [tuple(p) for p in rng.uniform(0, 10, (40, 2))]
    front = set(report_html.pareto_front(pts))

    def beats(a, b):
        return a[0] >= b[0] and a[1] >= b[1] and a != b

    for i, p in enumerate(pts):
        assert (i in front) == (not any(beats(q, p) for q in pts)), i


def _small_problem(seed=0, cin=8, cout=6):
    rng = np.random.default_rng(seed)
    xf = np.maximum(rng.normal(size=(4, cin, 6, 6)), 0).astype(np.float32)
    xi = np.clip(np.floor(xf * 16 + 0.5), 0, 255).astype(np.uint8)
    xf = (xi / 16).astype(np.float32)
    acts = ActivationSet(8, 4, xf[:3], xf[3:], xi[:3], xi[3:], "random")
    conv = ConvWeights((rng.normal(size=(cout, cin, 3, 3)) * 0.1).astype(np.float32),
                       (rng.normal(size=cout) * 0.01).astype(np.float32), "random")
    return conv, acts


@pytest.mark.parametrize(("scheme", "pruning", "arith"), [("pot4", "krp", "shift_add"),
                                                         ("ios4", "dense", "product_lut")])
def test_error_map_is_the_float_vs_dequantized_output(scheme, pruning, arith):
    conv, acts = _small_problem()
    out_frac = R.out_frac_from_calibration(conv, acts.calib_float, 8)
    layer = make_layer(conv, acts, scheme, pruning)
    got = report_html.error_maps(conv, acts, {"x": layer}, 8, out_frac, crop=0)["x"]
    # independently: torch float conv, the core's own arithmetic, then the output stage
    ref = np.maximum(metrics.conv_float(acts.heldout_float[0], conv.weight, conv.bias), 0)
    bias_int, shift, residual = R.requant_params(layer, None, acts.a_frac, out_frac)
    out = R.output_stage(R.layer_acc(acts.heldout_int[0], layer, arith), bias_int, shift, 8)
    deq = out * residual[:, None, None] * 2.0**-out_frac
    np.testing.assert_allclose(got, np.abs(ref - deq).mean(axis=0), rtol=1e-5, atol=1e-6)
    assert got.shape == acts.heldout_int.shape[2:] and got.max() > 0
    with pytest.raises(ValueError, match="crop 5"):
        report_html.error_maps(conv, acts, {"x": layer}, 8, out_frac, crop=5)


def test_cli_bad_out_is_one_line_exit_2(tmp_path: Path, capsys):
    not_dir = tmp_path / "file"
    not_dir.write_text("")
    assert report_html.main(["--out", str(not_dir), "--report", str(tmp_path / "none.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(not_dir) in err


@pytest.mark.skipif(report_html.find_chromium() is None,
                    reason="chromium not installed (apt-get install chromium)")
def test_page_renders_in_headless_chromium(full_page, tmp_path: Path):
    from PIL import Image

    index, _, _ = full_page
    width, height = 1200, 2400
    png = report_html.screenshot(index, tmp_path / "shot.png", width, height)
    with Image.open(png) as im:
        assert im.size == (width, height)
        rgb = np.asarray(im.convert("RGB"), dtype=np.int16)
    assert rgb.std() > 20  # not a blank page
    # matplotlib's first colour (tab:blue, 31,119,180) only comes from the figures: they were drawn
    blue = (np.abs(rgb - np.array([31, 119, 180])).sum(axis=2) < 30).mean()
    assert blue > 0.002, blue
    assert not re.search(r"not generated", index.read_text())
