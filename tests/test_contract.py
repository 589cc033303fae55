"""The hardware contract (spec/conv_engine.hjson) and what scripts/gen_contract.py writes from it:
no generated file is stale, a malformed contract is a one-line error naming the field (exit 2,
nothing written), and the Verilog, Python and C++ constants are the same numbers."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import hjson
import pytest

from pymodel import contract as K

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import gen_contract as G  # noqa: E402

SPEC = REPO / "spec" / "conv_engine.hjson"
GENERATED = [G.VERILOG, G.PYTHON, G.CPP, *G.DOCS]


def test_generated_files_are_not_stale(tmp_path: Path):
    """Regenerated into a scratch directory, every generated file equals the checked-in one."""
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "gen_contract.py"), "--out", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(GENERATED)
    stale = [rel for rel in GENERATED if (tmp_path / rel).read_bytes() != (REPO / rel).read_bytes()]
    assert not stale, f"stale generated files {stale}: run `make contract`"


def test_generated_files_say_so():
    for rel in GENERATED:
        assert G.NOTICE in (REPO / rel).read_text().lower(), f"{rel} does not say it is generated"


# ----------------------------------------------------------------------------- malformed


def _spec() -> dict:
    return json.loads(json.dumps(hjson.loads(SPEC.read_text())))


def _register(spec: dict, name: str) -> dict:
    return next(r for r in spec["axil"]["registers"] if r["name"] == name)


def _edit_offset_hex(s):
    _register(s, "STATUS")["offset"] = "0x04"  # hjson has no hex numbers: a string


def _edit_duplicate_offset(s):
    _register(s, "H")["offset"] = _register(s, "STATUS")["offset"]


def _edit_overlapping_bits(s):
    _register(s, "STATUS")["fields"][1]["lsb"] = 0


def _edit_field_too_wide(s):
    _register(s, "INFO")["fields"][3]["width"] = 9


def _edit_empty_range(s):
    s["ranges"]["A_BITS"] = {"min": 8, "max": 4, "desc": "backwards"}


def _edit_taps(s):
    s["kernel"]["taps"] = 8


def _edit_missing_range(s):
    del s["ranges"]["A_BITS"]


def _edit_unknown_width(s):
    s["vector_hex"][0]["bits"] = "b_bits"


def _edit_unknown_key(s):
    s["axil"]["regs"] = []


def _edit_bool_as_int(s):
    s["hls_status"]["bits"] = True


MALFORMED = {
    "offset-as-string": (_edit_offset_hex, "axil.registers.1.offset"),
    "duplicate-offset": (_edit_duplicate_offset, "axil.registers.2.offset"),
    "overlapping-status-bits": (_edit_overlapping_bits, "axil.registers.1.fields.1"),
    "info-field-beyond-32-bits": (_edit_field_too_wide, "axil.registers.8.fields.3"),
    "empty-range": (_edit_empty_range, "ranges.A_BITS"),
    "taps-not-9": (_edit_taps, "kernel.taps"),
    "missing-range": (_edit_missing_range, "ranges"),
    "unknown-hex-width": (_edit_unknown_width, "vector_hex.0.bits"),
    "unknown-key": (_edit_unknown_key, "axil"),
    "bool-is-not-an-integer": (_edit_bool_as_int, "hls_status.bits"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_contract_is_one_line_exit_2_nothing_written(tmp_path: Path, case: str, capsys):
    edit, field = MALFORMED[case]
    spec = _spec()
    edit(spec)
    bad = tmp_path / "bad.hjson"
    bad.write_text(hjson.dumps(spec))
    out = tmp_path / "out"
    assert G.main(["--spec", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gen_contract: bad.hjson: "), err
    assert f" {field}" in err or f"{field}:" in err, f"the error does not name {field}: {err}"
    assert not out.exists(), "a malformed contract wrote files"


def test_hjson_syntax_error_exits_2_in_one_line(tmp_path: Path):
    bad = tmp_path / "bad.hjson"
    bad.write_text(SPEC.read_text().replace("registers: [", "registers: [[", 1))
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "gen_contract.py"), "--spec", str(bad),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "bad.hjson: not valid hjson" in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------- agreement


def _python_scalars() -> dict[str, int]:
    return {name: value for name, value, _ in G.scalars(G.load_spec(SPEC))}


def test_python_module_holds_every_scalar():
    for name, value in _python_scalars().items():
        assert getattr(K, name) == value, name


def test_verilog_defines_are_the_same_numbers():
    text = (REPO / G.VERILOG).read_text()
    found = {}
    for name, value in re.findall(r"^`define CONV_(\w+) (\S+)", text, re.M):
        if name == "CONTRACT_VH":
            continue
        sized = re.fullmatch(r"(\d+)'h([0-9A-Fa-f]+)", value)
        found[name] = int(sized.group(2), 16) if sized else int(value)
    assert found == _python_scalars()


def test_cpp_constants_are_the_same_numbers(tmp_path: Path):
    """The C++ header, compiled by g++, prints the values Python holds (and parses the same)."""
    text = (REPO / G.CPP).read_text()
    parsed = {n: int(v, 0) for n, v in re.findall(r"^constexpr int (\w+) = (\w+);", text, re.M)}
    parsed.pop("N_HEX_FILES")
    assert parsed == _python_scalars()
    if not shutil.which("g++"):
        pytest.skip("g++ not found")
    names = sorted(parsed)
    src = tmp_path / "print.cpp"
    src.write_text('#include <cstdio>\n#include "conv_contract.h"\nint main() {\n'
                   + "".join(f'    std::printf("{n} %d\\n", conv::contract::{n});\n' for n in names)
                   + "    for (const auto &h : conv::contract::HEX_FILES)\n"
                   + '        std::printf("hex %s %d %s %s\\n",'
                   + ' h.name, h.is_signed ? 1 : 0, h.order, h.pruning);\n'
                   + "}\n")
    exe = tmp_path / "print"
    subprocess.run(["g++", "-std=c++11", "-Wall", "-Werror", f"-I{REPO / 'hls' / 'include'}", str(src),
                    "-o", str(exe)], check=True)
    lines = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.splitlines()
    printed = {n: int(v) for n, v in (ln.split() for ln in lines if not ln.startswith("hex "))}
    assert printed == _python_scalars()
    hexes = [ln.split()[1:] for ln in lines if ln.startswith("hex ")]
    want = [[f, str(int(signed)), order, only] for f, (_a, _b, signed, order, only) in K.VECTOR_HEX.items()]
    assert hexes == want


def test_status_bits_agree_across_languages():
    """The STATUS bit of each field is one number in the RTL header, Python and C++."""
    vh = (REPO / G.VERILOG).read_text()
    cpp = (REPO / G.CPP).read_text()
    for field in K.STATUS_FIELDS:
        name = f"STATUS_{field}_LSB"
        v = int(re.search(rf"^`define CONV_{name} (\d+)", vh, re.M).group(1))
        c = int(re.search(rf"^constexpr int {name} = (\d+);", cpp, re.M).group(1))
        assert v == c == getattr(K, name), name
    lsbs = [getattr(K, f"STATUS_{f}_LSB") for f in K.STATUS_FIELDS]
    assert len(set(lsbs)) == len(lsbs) and max(lsbs) < K.STATUS_DEFINED_BITS


def test_one_a_bits_range_everywhere():
    """pymodel's reference, vector schema and exporter take the contract's A_BITS range."""
    from pymodel import reference as R
    from pymodel import vector_schema as S
    from pymodel import vectors as V

    assert V.A_BITS_RANGE == K.A_BITS_RANGE
    schema = S.MANIFEST_SCHEMA["properties"]["a_bits"]
    assert (schema["minimum"], schema["maximum"]) == K.A_BITS_RANGE
    for a_bits in (K.A_BITS_MIN - 1, K.A_BITS_MAX + 1):
        with pytest.raises(R.ReferenceInputError, match=f"{K.A_BITS_MIN}..{K.A_BITS_MAX}"):
            R.product_table([1], a_bits)
    assert R.product_table([1], K.A_BITS_MIN).shape == (1 << K.A_BITS_MIN, 1)
