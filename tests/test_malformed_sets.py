"""Both vector readers against one table of malformed sets: pymodel.vectors.load_vectors (Python)
and vio::load (hls/tb/vector_io.h and its vio_*.h parts, the reader of the HLS C-sim testbenches,
built here as hls/tb/vector_check.cpp). Every case must end the same way on both sides: accepted, or refused
with exit 2 / VectorFormatError and one line naming the file; never a crash, a hang, or a read
outside the set folder. The valid controls (re-formatted manifests, Unicode, the nesting limit)
prove the rules are not simply "reject everything edited". A hypothesis fuzz test at the end
mutates manifests and hex files at random under the same contract.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pymodel import reference as R
from pymodel import vector_schema as S
from pymodel import vectors as V
from tests.pymodel.test_vectors import META, random_layer
from tests.vector_edit import reseal

REPO = Path(__file__).resolve().parents[1]
CHECK_SRC = REPO / "hls" / "tb" / "vector_check.cpp"
READER_TIMEOUT_S = 30
READER_MEMORY = 1 << 30  # address-space limit of the C++ reader: a 'read until memory runs out' fails fast


# ----------------------------------------------------------------------------- the two readers


@pytest.fixture(scope="session")
def cpp_reader() -> Path:
    """hls/tb/vector_check.cpp built with g++ (cached by a hash of the sources)."""
    if not shutil.which("g++"):
        pytest.skip("g++ not found: the C++ vector reader cannot be built")
    sources = [CHECK_SRC, *sorted((REPO / "hls" / "tb").glob("*.h")),  # vector_io.h and its parts
               REPO / "hls" / "include" / "conv_contract.h"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    out = REPO / "build" / "tests" / f"vector_check-{digest}"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        cmd = [
            "g++",
            "-O2",
            "-std=c++14",
            "-Wall",
            "-Wextra",
            "-Werror",
            f"-I{CHECK_SRC.parent}",
            str(CHECK_SRC),
        ]
        proc = subprocess.run([*cmd, "-o", str(tmp)], capture_output=True, text=True)
        if proc.returncode:
            pytest.fail(f"g++ failed on {CHECK_SRC}:\n{proc.stderr[-3000:]}")
        tmp.replace(out)
    return out


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (READER_MEMORY, READER_MEMORY))


def cpp_verdict(exe: Path, d: Path, trace: Path | None = None) -> tuple[str, str]:
    """("accept" | "reject" | "crash: ...", message) of the C++ reader on set d."""
    cmd = [str(exe), str(d)]
    if trace is not None:
        cmd = ["strace", "-f", "-qq", "-e", "trace=open,openat,stat,lstat,newfstatat", "-o", str(trace), *cmd]
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=READER_TIMEOUT_S,
            preexec_fn=None if trace else _limit_memory,
        )
    except subprocess.TimeoutExpired:
        return "crash: timeout", ""
    if proc.returncode == 0 and proc.stdout.startswith("ok "):
        return "accept", ""
    lines = proc.stderr.splitlines()
    if proc.returncode == 2 and len(lines) == 1 and lines[0].startswith(f"error: {d}: "):
        return "reject", lines[0][len(f"error: {d}: ") :]
    return f"crash: exit {proc.returncode}", proc.stderr[-500:]


def py_verdict(d: Path) -> tuple[str, str]:
    try:
        V.load_vectors(d)
    except V.VectorFormatError as exc:
        msg = str(exc)
        return ("reject", msg) if "\n" not in msg and msg else ("crash: multi-line message", msg)
    except Exception as exc:  # noqa: BLE001 - exactly what this test exists to catch
        return f"crash: {type(exc).__name__}", str(exc)[:300]
    return "accept", ""


# ----------------------------------------------------------------------------- base sets

BASES = {  # small sets of every pruning kind the C++ reader has a file layout for
    "dense": ("pot", "dense"),
    "unstructured": ("apot", "unstructured"),
    "krp": ("ios", "krp"),
    "ikr": ("int", "ikr"),
}


@pytest.fixture(scope="session")
def base_sets(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("base_sets")
    out = {}
    for key, (scheme, pruning) in BASES.items():
        layer = random_layer(scheme, pruning, 5, 4, seed=len(out))
        act = np.random.default_rng(7).integers(0, 256, (4, 3, 2)).astype(np.uint8)
        bias_int, shift, residual = R.requant_params(layer, None, META["a_frac"], META["out_frac"])
        out[key] = V.export_vectors(root, layer, act, 8, bias_int, shift, residual, META)
    return out


# ----------------------------------------------------------------------------- edits


def text(d: Path) -> str:
    return (d / "manifest.json").read_text()


class _Raw(str):
    pass


class _Obj(list):
    pass


def canonical_text(data: bytes) -> bytes:
    """docs/vector_format.md's canonical serialisation, written here independently of both
    readers (and lenient: it also serialises what they must refuse, e.g. lone surrogates)."""

    def dump(v, top=False) -> str:
        if isinstance(v, _Raw):
            return str(v)
        if isinstance(v, _Obj):
            pairs = sorted((k, x) for k, x in v if not (top and k == "manifest_sha256"))
            return "{" + ",".join(json.dumps(k) + ":" + dump(x) for k, x in pairs) + "}"
        if isinstance(v, list):
            return "[" + ",".join(dump(x) for x in v) + "]"
        return json.dumps(v)

    return dump(json.loads(data, object_pairs_hook=_Obj, parse_int=_Raw, parse_float=_Raw), top=True).encode()


def seal_text(d: Path, body: str | bytes) -> None:
    """Write manifest text as given, with manifest_sha256 set to the hash of its canonical
    serialisation (so a test reaches the checks behind the hash)."""
    data = body.encode() if isinstance(body, str) else body
    digest = hashlib.sha256(canonical_text(data)).hexdigest()
    data = re.sub(rb'"manifest_sha256": *"[0-9a-f]{64}"', f'"manifest_sha256": "{digest}"'.encode(), data)
    (d / "manifest.json").write_bytes(data)


def edit(fn: Callable[[dict], None]) -> Callable[[Path], None]:
    """A manifest edit on the parsed JSON, resealed (files and manifest hash)."""

    def apply(d: Path) -> None:
        m = json.loads(text(d))
        fn(m)
        reseal(d, m)

    return apply


def edit_only(fn: Callable[[dict], None]) -> Callable[[Path], None]:
    """A manifest edit resealing only the manifest hash (the files entries stay as edited)."""

    def apply(d: Path) -> None:
        m = json.loads(text(d))
        fn(m)
        body = {k: v for k, v in m.items() if k != "manifest_sha256"}
        m["manifest_sha256"] = hashlib.sha256(
            json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        (d / "manifest.json").write_text(json.dumps(m))

    return apply


def edit_text(old: str, new: str, seal: bool = True, count: int = 1) -> Callable[[Path], None]:
    def apply(d: Path) -> None:
        t = text(d)
        assert old in t, old
        t = t.replace(old, new, count)
        if seal:
            seal_text(d, t)
        else:
            (d / "manifest.json").write_text(t)

    return apply


def raw_manifest(data: bytes) -> Callable[[Path], None]:
    return lambda d: (d / "manifest.json").write_bytes(data)


def hex_lines(file: str, fn: Callable[[list[str]], list[str]], end: str = "\n") -> Callable[[Path], None]:
    """Edit a hex file's lines, then reseal the file hashes and the manifest."""

    def apply(d: Path) -> None:
        lines = (d / file).read_text().splitlines()
        (d / file).write_bytes((end.join(fn(lines)) + end).encode())
        reseal(d)

    return apply


def set_line(i: int, value: str) -> Callable[[list[str]], list[str]]:
    def fn(lines: list[str]) -> list[str]:
        lines[i] = value
        return lines

    return fn


def bump_line(i: int, bits: int) -> Callable[[list[str]], list[str]]:
    """Change value i to another in-range value of the same width."""

    def fn(lines: list[str]) -> list[str]:
        v = (int(lines[i], 16) + 1) % (1 << bits)
        lines[i] = f"{v:0{len(lines[i])}x}"
        return lines

    return fn


def listed_outside(name: str, target: str) -> Callable[[Path], None]:
    """List a file outside the set (a path or an absolute name) with its real hash and size."""

    def apply(d: Path) -> None:
        m = json.loads(text(d))
        data = (d / target).read_bytes() if not target.startswith("/") else Path(target).read_bytes()
        m["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        body = {k: v for k, v in m.items() if k != "manifest_sha256"}
        m["manifest_sha256"] = hashlib.sha256(
            json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        (d / "manifest.json").write_text(json.dumps(m))

    return apply


def symlink_outside(file: str) -> Callable[[Path], None]:
    """Replace a set file by a symlink to an identical copy outside the set (hash still matches)."""

    def apply(d: Path) -> None:
        outside = d.parent / f"{d.name}-outside-{file}"
        shutil.copy(d / file, outside)
        (d / file).unlink()
        (d / file).symlink_to(outside)

    return apply


def replace_by(file: str, make: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(d: Path) -> None:
        (d / file).unlink()
        make(d / file)

    return apply


def nested(depth: int) -> Callable[[Path], None]:
    """quant_extra holding lists nested so that the manifest's depth is `depth` (top level = 1)."""

    def apply(d: Path) -> None:
        inner = "[" * (depth - 1) + "]" * (depth - 1)
        seal_text(d, '{"deep": ' + inner + ", " + text(d).lstrip()[1:])

    return apply


def reformatted(d: Path) -> None:
    """Same content, other whitespace, keys in reverse order: the canonical hash is unchanged."""
    m = json.loads(text(d))
    (d / "manifest.json").write_text(json.dumps(dict(reversed(list(m.items()))), indent=4))


def huge_manifest(d: Path) -> None:
    t = text(d)
    seal_text(d, t[:-2] + " " * S.MAX_MANIFEST_BYTES + t[-2:])


def upper_sha(d: Path) -> None:
    t = text(d)
    digest = json.loads(t)["manifest_sha256"]
    (d / "manifest.json").write_text(t.replace(digest, digest.upper()))


def npz_changed(d: Path) -> None:
    """A different (valid) npz, resealed: hex files and npz no longer agree."""
    with np.load(d / "vectors.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["bias"] = arrays["bias"] + 1
    np.savez(d / "vectors.npz", **arrays)
    reseal(d)


def npz_garbage(d: Path) -> None:
    (d / "vectors.npz").write_bytes(b"PK\x03\x04" + os.urandom(200))
    reseal(d)


def pattern_library_short(d: Path) -> None:
    """patterns.hex loses its last pattern (count 7, resealed): the npz still has 8."""
    lines = (d / "patterns.hex").read_text().splitlines()[:-1]
    (d / "patterns.hex").write_text("\n".join(lines) + "\n")
    m = json.loads(text(d))
    m["hex"]["patterns.hex"]["count"] = len(lines)
    reseal(d, m)


# (base, edit, expected verdict). Each refused case is one defect class of issue 12.
CASES: dict[str, tuple[str, Callable[[Path], None], str]] = {
    # valid controls
    "control-as-exported": ("krp", lambda d: None, "accept"),
    "control-unstructured-as-exported": ("unstructured", lambda d: None, "accept"),
    "control-dense-as-exported": ("dense", lambda d: None, "accept"),
    "control-reformatted-manifest": ("ikr", reformatted, "accept"),
    "control-utf8-text": (
        "dense",
        edit_text('"activations_source": "', '"activations_source": "caf\u00e9 \u6f22 \U0001f600 '),
        "accept",
    ),
    "control-escaped-unicode": (
        "dense",
        edit_text('"activations_source": "', '"activations_source": "caf\\u00e9 \\ud83d\\ude00 \\/ '),
        "accept",
    ),
    "control-depth-at-limit": ("krp", nested(S.MAX_JSON_DEPTH), "accept"),
    # manifest syntax, encoding, limits
    "manifest-empty": ("dense", raw_manifest(b""), "reject"),
    "manifest-not-json": ("dense", raw_manifest(b"{oops"), "reject"),
    "manifest-array": ("dense", raw_manifest(b"[]"), "reject"),
    "manifest-bom": (
        "dense",
        lambda d: (d / "manifest.json").write_bytes(b"\xef\xbb\xbf" + text(d).encode()),
        "reject",
    ),
    "manifest-latin1-byte": (
        "dense",
        lambda d: (d / "manifest.json").write_bytes(
            text(d).encode().replace(b'"activations_source": "', b'"activations_source": "caf\xe9')
        ),
        "reject",
    ),
    "manifest-nested-200000": (
        "dense",
        lambda d: (d / "manifest.json").write_text(
            text(d)[:-2] + ', "x": ' + "[" * 200_000 + "]" * 200_000 + "}"
        ),
        "reject",
    ),
    "manifest-depth-over-limit": ("krp", nested(S.MAX_JSON_DEPTH + 1), "reject"),
    "manifest-duplicate-key": (
        "dense",
        edit_text('"a_bits": 8', '"a_bits": 8, "a_bits": 8', seal=False),
        "reject",
    ),
    "manifest-nan": ("dense", edit_text('"residual": [', '"residual": [NaN, ', seal=False), "reject"),
    "manifest-infinity": ("dense", edit_text('"wscale": [', '"wscale": [Infinity, ', seal=False), "reject"),
    "manifest-1e400": (
        "dense",
        lambda d: seal_text(d, re.sub(r'"wscale": \[[^,\]]+', '"wscale": [1e400', text(d))),
        "reject",
    ),
    "manifest-lone-surrogate": (
        "dense",
        edit_text('"activations_source": "', '"activations_source": "\\ud800'),
        "reject",
    ),
    "manifest-control-char": (
        "dense",
        edit_text('"activations_source": "', '"activations_source": "\x01', seal=False),
        "reject",
    ),
    "manifest-bad-escape": (
        "dense",
        edit_text('"activations_source": "', '"activations_source": "\\q', seal=False),
        "reject",
    ),
    "manifest-leading-zero": ("dense", edit_text('"seed": 0', '"seed": 00', seal=False), "reject"),
    "manifest-over-size-limit": ("dense", huge_manifest, "reject"),
    "manifest-symlink": ("dense", symlink_outside("manifest.json"), "reject"),
    "manifest-is-directory": ("dense", replace_by("manifest.json", lambda p: p.mkdir()), "reject"),
    "manifest-edited-unsealed": ("dense", edit_text('"a_frac": 3', '"a_frac": 4', seal=False), "reject"),
    "manifest-hash-uppercase": ("dense", upper_sha, "reject"),
    # schema: types, ranges, selection fields
    "files-parent-path": ("dense", listed_outside("../../../../etc/passwd", "/etc/passwd"), "reject"),
    "files-absolute-path": ("dense", listed_outside("/etc/hostname", "/etc/hostname"), "reject"),
    "files-sibling-path": ("dense", listed_outside("../outside.hex", "act.hex"), "reject"),
    "files-extra-name": ("dense", listed_outside("notes.txt", "act.hex"), "reject"),
    "files-entry-string": ("dense", edit_only(lambda m: m["files"].update({"act.hex": "0" * 64})), "reject"),
    "files-entry-extra-key": ("dense", edit_only(lambda m: m["files"]["act.hex"].update(mode=1)), "reject"),
    "cin-2^32+9": ("dense", edit(lambda m: m["layer"].update(cin=2**32 + 9)), "reject"),
    "cout-zero": ("dense", edit(lambda m: m["layer"].update(cout=0)), "reject"),
    "layer-k5": ("dense", edit(lambda m: m["layer"].update(k=5)), "reject"),
    "layer-extra-key": ("dense", edit(lambda m: m["layer"].update(dilation=1)), "reject"),
    "a_bits-string": ("dense", edit(lambda m: m.update(a_bits="8")), "reject"),
    "a_bits-float": ("dense", edit_text('"a_bits": 8', '"a_bits": 8.0'), "reject"),
    "a_bits-3": ("dense", edit(lambda m: m.update(a_bits=3)), "reject"),
    "version-float": ("dense", edit_text('"version": 2', '"version": 2.0'), "reject"),
    "version-1": ("dense", edit(lambda m: m.update(version=1)), "reject"),
    "wscale-strings": ("dense", edit(lambda m: m.update(wscale=[str(x) for x in m["wscale"]])), "reject"),
    "wscale-short": ("dense", edit(lambda m: m.update(wscale=m["wscale"][1:])), "reject"),
    "residual-negative": ("dense", edit(lambda m: m["residual"].__setitem__(0, -1.0)), "reject"),
    "residual-zero": ("dense", edit(lambda m: m["residual"].__setitem__(0, 0)), "reject"),
    "scheme_tag-wrong": ("dense", edit(lambda m: m.update(scheme_tag="pot5")), "reject"),
    "scheme-unknown": ("dense", edit(lambda m: m.update(scheme="fp8")), "reject"),
    "name-path": ("dense", edit(lambda m: m.update(name="../evil")), "reject"),
    "name-uppercase": ("dense", edit(lambda m: m.update(name="Int8-dense")), "reject"),
    "name-newline": ("dense", edit(lambda m: m.update(name=m["name"] + "\n")), "reject"),
    "stress-string": ("dense", edit(lambda m: m.update(stress="yes")), "reject"),
    "refit-int": ("dense", edit(lambda m: m.update(refit=1)), "reject"),
    "tile-missing-key": ("dense", edit(lambda m: m.update(tile={k: 0 for k in S.TILE_KEYS[:-1]})), "reject"),
    "tile-dims-differ": (
        "dense",
        edit(
            lambda m: m.update(
                tile={
                    **{k: 0 for k in S.TILE_KEYS},
                    **{k: m["layer"][k] for k in ("cin", "cout", "h")},
                    "w": 9,
                }
            )
        ),
        "reject",
    ),
    "seed-negative": ("dense", edit(lambda m: m.update(seed=-1)), "reject"),
    "missing-weights_source": ("dense", edit(lambda m: m.pop("weights_source")), "reject"),
    "acc_bits-wrong": ("dense", edit(lambda m: m.update(acc_bits=m["acc_bits"] + 1)), "reject"),
    "code-format-wrong": ("dense", edit(lambda m: m.update(exp1_bits=2)), "reject"),
    "pruning-mismatch": ("dense", edit(lambda m: m.update(pruning="krp")), "reject"),
    "hex-bits-wrong": ("dense", edit(lambda m: m["hex"]["act.hex"].update(bits=7)), "reject"),
    "hex-signed-wrong": ("dense", edit(lambda m: m["hex"]["bias.hex"].update(signed=False)), "reject"),
    "hex-order-wrong": ("dense", edit(lambda m: m["hex"]["act.hex"].update(order="ci,y,x")), "reject"),
    "hex-count-wrong": (
        "dense",
        edit(lambda m: m["hex"]["out.hex"].update(count=m["hex"]["out.hex"]["count"] + 1)),
        "reject",
    ),
    "hex-entry-foreign": (
        "dense",
        edit(lambda m: m["hex"].update({"rowidx.hex": m["hex"]["shift.hex"]})),
        "reject",
    ),
    # the listed files
    "file-missing": ("krp", lambda d: (d / "rowidx.hex").unlink(), "reject"),
    "file-sha-mismatch": (
        "dense",
        lambda d: (d / "out.hex").write_text((d / "out.hex").read_text()[::-1]),
        "reject",
    ),
    "file-size-mismatch": ("dense", lambda d: (d / "acc.hex").write_text("0\n"), "reject"),
    "file-symlink-outside": ("dense", symlink_outside("act.hex"), "reject"),
    "file-dev-zero": ("dense", replace_by("act.hex", lambda p: p.symlink_to("/dev/zero")), "reject"),
    "file-fifo": ("dense", replace_by("act.hex", lambda p: os.mkfifo(p)), "reject"),
    "file-directory": ("dense", replace_by("act.hex", lambda p: p.mkdir()), "reject"),
    # hex syntax and semantics (resealed, so only the content check can tell)
    "hex-uppercase": ("dense", hex_lines("lut.hex", set_line(0, "0000000A")), "reject"),
    "hex-2bit-out-of-range": ("krp", hex_lines("rowidx.hex", set_line(0, "3")), "reject"),
    "hex-4bit-digit-too-wide": ("dense", hex_lines("wcode.hex", set_line(0, "f0")), "reject"),
    "hex-crlf": ("dense", hex_lines("shift.hex", lambda ls: ls, end="\r\n"), "reject"),
    "hex-no-final-newline": (
        "dense",
        lambda d: ((d / "out.hex").write_bytes((d / "out.hex").read_bytes()[:-1]), reseal(d)),
        "reject",
    ),
    "hex-line-missing": ("dense", hex_lines("act.hex", lambda ls: ls[:-1]), "reject"),
    "hex-line-extra": ("dense", hex_lines("act.hex", lambda ls: [*ls, ls[0]]), "reject"),
    "hex-non-hex": ("dense", hex_lines("act.hex", set_line(2, "zz")), "reject"),
    "hex-short-line": ("dense", hex_lines("bias.hex", set_line(1, "0")), "reject"),
    "hex-shift-32": ("dense", hex_lines("shift.hex", set_line(0, "20")), "reject"),
    "hex-out-changed": ("dense", hex_lines("out.hex", bump_line(0, 8)), "reject"),
    "hex-lut-changed": ("krp", hex_lines("lut.hex", bump_line(5, 32)), "reject"),
    "hex-levels-nonzero": ("dense", hex_lines("levels.hex", set_line(3, "01")), "reject"),
    "hex-ios-bad-mantissa": ("krp", hex_lines("levels.hex", set_line(3, "21")), "reject"),
    "hex-pattern-library-short": ("ikr", pattern_library_short, "reject"),
    "hex-pattern-popcount": ("ikr", hex_lines("patterns.hex", set_line(0, "1ff")), "reject"),
    "hex-acc-past-acc_bits": ("dense", hex_lines("acc.hex", set_line(0, "7fffffff")), "reject"),
    # the npz (only its hash is shared; both readers compare it with the hex files)
    "npz-garbage": ("dense", npz_garbage, "reject"),
    "npz-bias-differs": ("dense", npz_changed, "reject"),
}


@pytest.mark.parametrize("case", CASES)
def test_both_readers_same_verdict(case: str, base_sets, cpp_reader, tmp_path):
    base, fn, expected = CASES[case]
    d = tmp_path / base_sets[base].name
    shutil.copytree(base_sets[base], d, symlinks=True)
    fn(d)
    py, py_msg = py_verdict(d)
    cpp, cpp_msg = cpp_verdict(cpp_reader, d)
    print(f"{case}: python {py} ({py_msg}) | c++ {cpp} ({cpp_msg})")
    assert py == expected, f"python: {py}: {py_msg}"
    assert cpp == expected, f"c++: {cpp}: {cpp_msg}"
    if expected == "reject":  # one line that names the file at fault
        assert NAMES_FILE.match(py_msg), py_msg
        assert NAMES_FILE.match(cpp_msg), cpp_msg


NAMES_FILE = re.compile(r"^(manifest\.json|vectors\.npz|[a-z]+\.hex)( line \d+)?: \S")
OUTSIDE_CASES = [
    "files-parent-path",
    "files-absolute-path",
    "files-sibling-path",
    "files-extra-name",
    "file-symlink-outside",
    "file-dev-zero",
    "file-fifo",
    "manifest-symlink",
]


class _OpenLog:
    """Paths opened by this process (a sys audit hook; hooks cannot be removed, so it is gated)."""

    active: list[str] | None = None
    installed = False

    @classmethod
    def hook(cls, event: str, args: tuple) -> None:
        if event == "open" and cls.active is not None and isinstance(args[0], (str, bytes, os.PathLike)):
            cls.active.append(os.fsdecode(args[0]))


@pytest.mark.parametrize("case", OUTSIDE_CASES)
def test_no_read_outside_the_set(case: str, base_sets, cpp_reader, tmp_path):
    """Neither reader opens anything outside the set folder (Python: audit hook; C++: strace)."""
    base, fn, _ = CASES[case]
    d = tmp_path / base_sets[base].name
    shutil.copytree(base_sets[base], d, symlinks=True)
    fn(d)
    if not _OpenLog.installed:
        sys.addaudithook(_OpenLog.hook)
        _OpenLog.installed = True
    _OpenLog.active = opened = []
    try:
        assert py_verdict(d)[0] == "reject"
    finally:
        _OpenLog.active = None
    outside = [p for p in opened if not Path(p).resolve().is_relative_to(d.resolve())]
    assert not outside, f"python opened {outside}"
    if not shutil.which("strace"):
        pytest.skip("strace not found: the C++ reader's opens are not traced")
    trace = tmp_path / "strace.txt"
    verdict, msg = cpp_verdict(cpp_reader, d, trace)
    if verdict != "reject" and not trace.is_file():
        pytest.skip(f"strace does not work here ({msg})")
    assert verdict == "reject", msg
    calls = re.findall(r'(open|openat)\((?:AT_FDCWD, )?"([^"]+)"', trace.read_text())
    opened = [p for call, p in calls if not re.match(r"/(etc/ld\.so|lib|usr/lib|usr/local/lib|proc/self)", p)]
    outside = [
        p
        for p in opened
        if not Path(p).resolve().is_relative_to(d.resolve()) and not Path(p).resolve() == cpp_reader.resolve()
    ]
    assert not outside, f"c++ opened {outside}"
    if case != "manifest-symlink":  # the trace does see the reader's own opens
        assert any(Path(p).resolve().is_relative_to(d.resolve()) for p in opened), opened


# ----------------------------------------------------------------------------- fuzz

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))  # per fuzz test; ~0.1 s each
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _fuzz_one(base: Path, cpp_reader: Path, mutate: Callable[[Path], None]) -> None:
    """Both readers on a mutated copy: each accepts or refuses in one line, and they agree."""
    import tempfile

    from hypothesis import event

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / base.name
        shutil.copytree(base, d)
        mutate(d)
        py, py_msg = py_verdict(d)
        cpp, cpp_msg = cpp_verdict(cpp_reader, d)
        event(f"python {py}, c++ {cpp}")
        assert py in ("accept", "reject"), f"python {py}: {py_msg}"
        assert cpp in ("accept", "reject"), f"c++ {cpp}: {cpp_msg}"
        assert py == cpp, f"python {py} ({py_msg}) but c++ {cpp} ({cpp_msg})"


def _paths(v, prefix=()):
    """Every (path, value) inside a JSON value."""
    yield prefix, v
    items = v.items() if isinstance(v, dict) else enumerate(v) if isinstance(v, list) else ()
    for k, x in items:
        yield from _paths(x, (*prefix, k))


@FUZZ
@given(base=st.sampled_from(sorted(BASES)), data=st.data())
def test_fuzz_manifest_values(base, data, base_sets, cpp_reader):
    """A random field of the manifest replaced by a random JSON value (or deleted), resealed."""

    def mutate(d: Path) -> None:
        m = json.loads(text(d))
        paths = [p for p, _ in _paths(m) if p and p != ("manifest_sha256",)]
        path = data.draw(st.sampled_from(paths))
        parent = m
        for k in path[:-1]:
            parent = parent[k]
        if isinstance(parent, dict) and data.draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(JSON_VALUES)
        body = json.dumps(m).encode()
        digest = hashlib.sha256(canonical_text(body)).hexdigest()
        m["manifest_sha256"] = digest
        (d / "manifest.json").write_text(json.dumps(m))

    _fuzz_one(base_sets[base], cpp_reader, mutate)


@FUZZ
@given(base=st.sampled_from(sorted(BASES)), data=st.data())
def test_fuzz_manifest_bytes(base, data, base_sets, cpp_reader):
    """Random byte edits of manifest.json, resealed when the result still parses."""

    def mutate(d: Path) -> None:
        raw = bytearray((d / "manifest.json").read_bytes())
        for _ in range(data.draw(st.integers(1, 4))):
            i = data.draw(st.integers(0, len(raw) - 1))
            op = data.draw(st.sampled_from(["set", "delete", "insert"]))
            b = data.draw(st.sampled_from([*b'{}[]",:0123456789-.eE \\nu', 0x00, 0x7F, 0xC3, 0xE9, 0xFF]))
            if op == "set":
                raw[i] = b
            elif op == "delete":
                del raw[i]
            else:
                raw.insert(i, b)
        try:
            digest = hashlib.sha256(canonical_text(bytes(raw))).hexdigest()
            raw = re.sub(
                rb'"manifest_sha256": *"[0-9a-f]{64}"', f'"manifest_sha256": "{digest}"'.encode(), bytes(raw)
            )
        except (ValueError, RecursionError):
            pass  # not JSON any more: both readers must say so
        (d / "manifest.json").write_bytes(bytes(raw))

    _fuzz_one(base_sets[base], cpp_reader, mutate)


@FUZZ
@given(base=st.sampled_from(sorted(BASES)), data=st.data())
def test_fuzz_hex_files(base, data, base_sets, cpp_reader):
    """Random byte edits of one hex file, every hash resealed (only the content checks can tell)."""

    def mutate(d: Path) -> None:
        name = data.draw(st.sampled_from(sorted(p.name for p in d.glob("*.hex"))))
        raw = bytearray((d / name).read_bytes())
        for _ in range(data.draw(st.integers(1, 3))):
            i = data.draw(st.integers(0, len(raw) - 1))
            op = data.draw(st.sampled_from(["set", "delete", "insert"]))
            b = data.draw(st.sampled_from(list(b"0123456789abcdefABCDEF\n\r g")))
            if op == "set":
                raw[i] = b
            elif op == "delete":
                del raw[i]
            else:
                raw.insert(i, b)
        (d / name).write_bytes(bytes(raw))
        reseal(d)

    _fuzz_one(base_sets[base], cpp_reader, mutate)
