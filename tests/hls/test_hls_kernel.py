"""The structure of the HLS kernel's pipelined loop, and the shapes the golden tiles miss.

* PIXELS reads each memory at most once per step, visibly: one read per line-buffer bank, one
  word of wbuf and of ibuf; no DEPENDENCE pragma declares a dependence false.
* The one DEPENDENCE pragma (line buffer, RAW at distance TAPS) is true: the kernel's C-simulation
  aborts on a read sooner than that after the write, and tests/hls/degenerate_tb.cpp runs the
  shapes where the distance is smallest (one column, one channel group), bit-exact against a
  direct convolution. A scratch copy that claims one step more must abort.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import hls_csim  # noqa: E402

KERNEL = REPO / "hls" / "include" / "conv3x3.h"
DRIVER = Path(__file__).resolve().parent / "degenerate_tb.cpp"
# (H, W, CIN, COUT) at PAR_IN 4 x PAR_OUT 2: one column / one group (the minimum distance), one
# column / three groups with padding lanes, one row, one pixel, and a wider map.
SHAPES = [(5, 1, 3, 2), (4, 1, 9, 3), (1, 3, 4, 2), (1, 1, 2, 1), (6, 4, 5, 3)]
SMALL = {"CONV_PAR_IN": 4, "CONV_PAR_OUT": 2, "CONV_H_MAX": 8, "CONV_W_MAX": 8, "CONV_CIN_MAX": 16,
         "CONV_COUT_MAX": 8, "CONV_W_BITS": 8}
FORMATS = [("dense", {}), ("krp", {}), ("ikr", {"CONV_IKR_K": 4}), ("ikr", {"CONV_IKR_K": 1})]


def pixels_body() -> str:
    text = KERNEL.read_text()
    start = text.index("PIXELS:")
    return text[start:text.index("// advance (y, x, cg, t)", start)]


def test_pipelined_loop_reads_each_memory_once_per_step():
    body = pixels_body()
    # the reads of a memory, with the lane index i over its reshaped (one-word) dimension
    assert len(re.findall(r"\blb\[s\]\[xr\]\[cg\]\[i\]", body)) == 1, "one read per bank"
    assert len(re.findall(r"\blb\[", body)) == 2, "lb: the bank reads and the one write of row y+2"
    assert re.search(r"for \(int s = 0; s < 4; \+\+s\) \{\s*for \(int i = 0; i < PI; \+\+i\) "
                     r"bank_row\[s\]\[i\] = lb\[s\]\[xr\]\[cg\]\[i\];", body)
    assert re.findall(r"\bwbuf\[[^\]]*\]\[o\]\[i\]", body) == ["wbuf[k][o][i]"], "one weight word per step"
    assert re.findall(r"\bibuf\[[^\]]*\]\[o\]\[i\]", body) == ["ibuf[g][o][i]"], "one index word per step"
    assert len(re.findall(r"\b[wi]buf\[", body)) == 2
    text = KERNEL.read_text()
    for pragma in re.findall(r"#pragma HLS DEPENDENCE[^\n]*", text):
        assert not re.search(r"\bfalse\b", pragma), f"a dependence declared false: {pragma}"
    assert "ARRAY_PARTITION variable = wcache complete dim = 0" in text, "the window cache is registers"
    # KRP/IKR (NSEL > 1): the activation is selected per lane, then the product; a product bank
    # is built only for the single candidate of the dense format
    assert body.count("PRODUCT::bank(") == 1
    assert re.search(r"if \(NSEL == 1\) \{\s*for \(int i = 0; i < PI; \+\+i\) "
                     r"bank\[i\] = PRODUCT::bank\(", body)
    assert re.search(r"PRODUCT::direct\(cand\[c\]\[i\], code, levels\)", body)


def compile_driver(hls_dir: Path, fmt: str, extra: dict, out: Path) -> Path:
    defines = {**SMALL, "CONV_FORMAT": hls_csim.FORMATS[fmt], **extra}
    exe = out / "degenerate_tb"
    cmd = ["g++", hls_csim.OPT_TILES, *hls_csim.CXXFLAGS, *(f"-D{k}={v}" for k, v in sorted(defines.items())),
           "-isystem", str(hls_csim.ap_types_dir()), f"-I{hls_dir / 'include'}", f"-I{hls_dir}",
           f"-I{hls_dir / 'tb'}", str(hls_dir / "conv_mult.cpp"), str(DRIVER), "-o", str(exe)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return exe


def need_gxx() -> None:
    if not shutil.which("g++"):
        pytest.skip("g++ not found")
    try:
        hls_csim.ap_types_dir()
    except hls_csim.CsimError as e:
        pytest.skip(str(e))


@pytest.mark.parametrize(("fmt", "extra"), FORMATS, ids=[f"{f}{e.get('CONV_IKR_K', '')}" for f, e in FORMATS])
def test_degenerate_shapes_bit_exact(tmp_path: Path, fmt: str, extra: dict):
    need_gxx()
    exe = compile_driver(REPO / "hls", fmt, extra, tmp_path)
    args = [str(v) for shape in SHAPES for v in shape]
    proc = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("PASS") == len(SHAPES)


def test_dependence_check_bites(tmp_path: Path):
    """Claiming distance TAPS + 1 is false at one column and one group: the C-sim must abort."""
    need_gxx()
    scratch = tmp_path / "hls"
    shutil.copytree(REPO / "hls", scratch)
    header = scratch / "include" / "conv3x3.h"
    text = header.read_text()
    assert "LB_RAW_DISTANCE = TAPS;" in text
    header.write_text(text.replace("LB_RAW_DISTANCE = TAPS;", "LB_RAW_DISTANCE = TAPS + 1;"))
    exe = compile_driver(scratch, "krp", {}, tmp_path)
    proc = subprocess.run([str(exe), "5", "1", "3", "2"], capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "below the DEPENDENCE distance" in proc.stderr, proc.stdout + proc.stderr


WIDTH_CAPS = [
    ({"CONV_PAR_IN": 16, "CONV_PAR_OUT": 32, "CONV_W_BITS": 8}, "s_axis_wgt beat"),   # 4096-bit weights
    ({"CONV_PAR_IN": 16, "CONV_PAR_OUT": 26, "CONV_W_BITS": 8}, "s_axis_wgt beat"),   # 3328 + keep/strb/last
    ({"CONV_PAR_IN": 1, "CONV_PAR_OUT": 128, "CONV_W_BITS": 8}, "m_axis_out beat"),   # 4096-bit outputs
    ({"CONV_W_BITS": 8, "AP_INT_MAX_W": 8192}, "AP_INT_MAX_W above 4096"),
]


@pytest.mark.parametrize(("defines", "needle"), WIDTH_CAPS, ids=[n for _, n in WIDTH_CAPS])
def test_width_ceilings_fail_at_compile_time(defines: dict, needle: str):
    need_gxx()
    cmd = ["g++", "-std=c++14", "-fsyntax-only", "-isystem", str(hls_csim.ap_types_dir()),
           f"-I{REPO / 'hls' / 'include'}", f"-I{REPO / 'hls'}", *(f"-D{k}={v}" for k, v in defines.items()),
           str(REPO / "hls" / "conv_mult.cpp")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and needle in proc.stderr, proc.stderr[-2000:]


def test_widest_legal_weight_beat_compiles():
    """16x24 int8 lanes: 3072 data bits, a 3841-bit beat with keep/strb/last, under the cap."""
    need_gxx()
    cmd = ["g++", "-std=c++14", "-fsyntax-only", "-isystem", str(hls_csim.ap_types_dir()),
           f"-I{REPO / 'hls' / 'include'}", f"-I{REPO / 'hls'}", "-DCONV_W_BITS=8", "-DCONV_PAR_OUT=24",
           str(REPO / "hls" / "conv_mult.cpp")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
