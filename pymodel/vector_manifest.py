"""Golden vector sets on disk: the manifest (strict JSON, schema, content hash), the index, and
the validated load of a whole set (docs/vector_format.md, "What a valid set is")."""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import numpy as np

from . import codes as C
from . import contract as K
from . import reference as R
from . import vector_schema as S
from .vector_hex import VectorFormatError, hex_array, hex_files, hex_widths, read_hex

FORMAT = "conv-vectors"
VERSION = 2
MANIFEST = "manifest.json"
NPZ = S.NPZ


@dataclass(frozen=True)
class VectorSet:
    """A loaded, validated vector set: its manifest and the npz arrays (docs/vector_format.md)."""

    path: Path
    manifest: dict
    arrays: dict[str, np.ndarray]

    def __getattr__(self, key: str) -> np.ndarray:  # vs.acc, vs.wcode, ... for testbenches
        arrays = self.__dict__.get("arrays", {})
        if key in arrays:
            return arrays[key]
        raise AttributeError(key)

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def a_bits(self) -> int:
        return self.manifest["a_bits"]

    @property
    def acc_bits(self) -> int:
        return self.manifest["acc_bits"]

    @property
    def dims(self) -> dict:
        return self.manifest["layer"]

    def hex_path(self, filename: str) -> Path:
        return self.path / filename


# ----------------------------------------------------------------------------- hashing


def manifest_digest(manifest: dict) -> str:
    """sha256 of the canonical JSON of the manifest without its own `manifest_sha256` field
    (for a manifest written by json.dumps this is the canonical serialisation the readers hash,
    docs/vector_format.md)."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


# ----------------------------------------------------------------------------- load


def _fail(where: str, problem: str) -> None:
    raise VectorFormatError(f"{where}: {problem}")


def _regular_file_bytes(path: Path, label: str, max_bytes: int) -> bytes:
    """The bytes of a regular file (not a symlink, device or FIFO) of at most max_bytes."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        _fail(label, "missing")
    except OSError as exc:
        _fail(label, f"cannot be read ({exc.strerror})")
    if not stat.S_ISREG(st.st_mode):
        _fail(label, "not a regular file (symlinks, devices and FIFOs are refused)")
    if st.st_size > max_bytes:
        _fail(label, f"{st.st_size} bytes, more than the limit of {max_bytes}")
    try:
        with open(path, "rb") as f:
            return f.read(max_bytes + 1)
    except OSError as exc:
        _fail(label, f"cannot be read ({exc.strerror})")


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)


class _RawNumber(str):
    """A JSON number kept as its text (the canonical serialisation copies numbers verbatim)."""


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON (RFC 8259 has no NaN or Infinity)")


def _unique_pairs(pairs: list) -> dict:
    value = dict(pairs)
    if len(value) != len(pairs):
        keys = [k for k, _ in pairs]
        raise ValueError(f"duplicate key {next(k for k in keys if keys.count(k) > 1)!r}")
    return value


def _check_strings(value, label: str) -> None:
    """Every string (keys too) is Unicode text: no lone surrogate from a \\ud800-style escape."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        for s in (k, v):
            if isinstance(s, str):
                try:
                    s.encode("utf-8")
                except UnicodeEncodeError:
                    _fail(label, f"not valid JSON (string {s!r} holds a lone surrogate escape)")
        if isinstance(v, (dict, list)):
            _check_strings(v, label)


def parse_json_text(data: bytes, label: str) -> tuple[object, bytes]:
    """Strict JSON (docs/vector_format.md): UTF-8, RFC 8259 (no NaN/Infinity), no duplicate keys,
    nesting at most MAX_JSON_DEPTH. Returns (value, canonical serialisation)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        _fail(label, f"not valid JSON (not UTF-8 at byte {exc.start})")
    depth = deepest = 0
    for m in re.finditer(r'[\[\]{}]', _JSON_STRING.sub('""', text)):
        depth += 1 if m.group() in "[{" else -1
        deepest = max(deepest, depth)
    if deepest > S.MAX_JSON_DEPTH:
        _fail(label, f"not valid JSON (nested deeper than {S.MAX_JSON_DEPTH} levels)")
    try:
        value = json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_no_constant)
        raw = json.loads(text, object_pairs_hook=_Obj, parse_constant=_no_constant,
                         parse_int=_RawNumber, parse_float=_RawNumber)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        _fail(label, f"not valid JSON ({str(exc).splitlines()[0]})")
    _check_strings(value, label)
    return value, _canonical(raw, top=True).encode("ascii")


def _canonical(v, top: bool = False) -> str:
    """Keys sorted, no whitespace, strings escaped as json.dumps (ASCII), numbers as written;
    the top-level `manifest_sha256` is left out."""
    if isinstance(v, _RawNumber):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if v is True or v is False or v is None:
        return json.dumps(v)
    if isinstance(v, _Obj):
        pairs = sorted(((k, x) for k, x in v if not (top and k == "manifest_sha256")), key=lambda kx: kx[0])
        return "{" + ",".join(json.dumps(k) + ":" + _canonical(x) for k, x in pairs) + "}"
    return "[" + ",".join(_canonical(x) for x in v) + "]"


class _Obj(list):
    """A JSON object as its (key, value) pairs, in file order."""


def _strict_validator(schema: dict):
    """jsonschema validator where "integer" is a JSON integer (no 1.0) and never a bool."""
    base = jsonschema.Draft202012Validator
    checker = base.TYPE_CHECKER.redefine(
        "integer", lambda _c, x: isinstance(x, int) and not isinstance(x, bool)
    )
    return jsonschema.validators.extend(base, type_checker=checker)(schema)


_MANIFEST_VALIDATOR = None
_INDEX_VALIDATOR = None


def _schema_error(label: str, validator, value) -> None:
    err = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if err is not None:
        where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        msg = err.message if len(err.message) < 160 else err.message[:157] + "..."
        _fail(label, f"{where}: {msg}")


def read_json_file(path: Path, label: str, max_bytes: int) -> tuple[object, bytes]:
    """A size-bounded regular file parsed with parse_json_text."""
    return parse_json_text(_regular_file_bytes(path, label, max_bytes), label)


def _read_manifest(path: Path) -> dict:
    global _MANIFEST_VALIDATOR
    if not path.is_dir():
        _fail(str(path), "not a vector set directory")
    mpath = path / MANIFEST
    if not os.path.lexists(mpath):
        _fail(MANIFEST, f"missing in {path}")
    manifest, canonical = read_json_file(mpath, MANIFEST, S.MAX_MANIFEST_BYTES)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        fmt = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        _fail(MANIFEST, f"not a {FORMAT} manifest (format={fmt!r})")
    version = manifest.get("version")
    if type(version) is not int:  # 2.0 or true is not the version 2
        _fail(MANIFEST, f"unsupported version {version!r} (this reader reads version {VERSION})")
    if 1 <= version < VERSION:
        _fail(
            MANIFEST,
            f"version {version} is an older vector format (this reader reads version {VERSION}): "
            "re-export the vectors with `make vectors` (python -m pymodel export)",
        )
    if version != VERSION:
        _fail(MANIFEST, f"unsupported version {version!r} (this reader reads version {VERSION})")
    _MANIFEST_VALIDATOR = _MANIFEST_VALIDATOR or _strict_validator(S.MANIFEST_SCHEMA)
    _schema_error(MANIFEST, _MANIFEST_VALIDATOR, manifest)
    if hashlib.sha256(canonical).hexdigest() != manifest["manifest_sha256"]:
        _fail(MANIFEST, "content hash mismatch (manifest edited since export)")
    return manifest


def read_manifest(path: str | Path) -> dict:
    """A set's manifest.json, checked (strict JSON, schema, content hash) but without reading
    the data files: what tools that select sets by their manifest fields need."""
    manifest = _read_manifest(Path(path))
    _check_manifest_values(manifest)
    return manifest


def read_index(out_dir: Path) -> dict:
    """index.json of an export directory, validated against INDEX_SCHEMA."""
    global _INDEX_VALIDATOR
    index, _ = read_json_file(out_dir / "index.json", "index.json", S.MAX_INDEX_BYTES)
    _INDEX_VALIDATOR = _INDEX_VALIDATOR or _strict_validator(S.INDEX_SCHEMA)
    _schema_error("index.json", _INDEX_VALIDATOR, index)
    paths = [e["path"] for e in index["sets"]]
    bad = next((p for p in paths if not re.fullmatch(S.SET_NAME_PATTERN, p)), None)
    if bad is not None:
        _fail("index.json", f"set path {bad!r} is not a plain directory name")
    if len(set(paths)) != len(paths):
        _fail("index.json", f"set {next(p for p in paths if paths.count(p) > 1)!r} is listed twice")
    return index


def _check_files(path: Path, manifest: dict) -> dict[str, bytes]:
    """Every listed file (exactly the set's files): regular, bounded, of the recorded size and
    sha256. Returns their bytes, so nothing is read twice (or changes between check and use)."""
    files = manifest["files"]
    required = (NPZ, *hex_files(manifest["pruning"]))
    for filename in required:
        if filename not in files:
            _fail(MANIFEST, f"does not list required file {filename}")
    for filename in files:
        if filename not in required:
            _fail(MANIFEST, f"lists {filename}, which is not a file of a {manifest['pruning']} set")
    contents = {}
    for filename, entry in files.items():
        data = _regular_file_bytes(path / filename, filename, S.MAX_FILE_BYTES)
        if len(data) != entry["bytes"]:
            _fail(filename, f"{len(data)} bytes, manifest says {entry['bytes']} (truncated or replaced)")
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            _fail(filename, "sha256 mismatch (file changed since export)")
        contents[filename] = data
    return contents


def _expected_arrays(m: dict) -> dict[str, tuple[np.dtype, tuple]]:
    d = m["layer"]
    cin, cout, h, w = d["cin"], d["cout"], d["h"], d["w"]
    spec = {
        "act": (np.uint8, (cin, h, w)),
        "wcode": (np.uint8, (cout, cin, 3, 3)),
        "wint": (np.int32, (cout, cin, 3, 3)),
        "mask": (np.bool_, (cout, cin, 3, 3)),
        "bias": (np.int32, (cout,)),
        "shift": (np.uint8, (cout,)),
        "level_desc": (np.uint8, (C.N_LEVELS,)),
        "levels": (np.int32, (C.N_LEVELS,)),
        "lut": (np.int32, (1 << m["a_bits"], C.N_LEVELS)),
        "acc": (np.int64, (cout, h, w)),
        "out": (np.uint8, (cout, h, w)),
    }
    if m["pruning"] == "krp":
        spec["row_idx"] = (np.uint8, (cout, cin))
    if m["pruning"] == "ikr":
        spec["pattern_id"] = (np.uint8, (cout, cin))
        spec["patterns"] = (np.bool_, None)
    return spec


def _check_manifest_values(m: dict) -> None:
    """The rules across fields the schema cannot express (the types and ranges it checked)."""
    d = m["layer"]
    try:
        C.check_format(m["scheme"], m["w_bits"], m["exp1_bits"], m["exp2_bits"])
    except C.CodeFormatError as exc:
        _fail(MANIFEST, f"unsupported code format: {exc}")
    if not re.fullmatch(S.SET_NAME_PATTERN, m["name"]):  # the schema's pattern search allows a final \n
        _fail(MANIFEST, f"name {m['name']!r} is not a plain lowercase set name")
    tag = "ios4" if m["scheme"] == "ios" else f"{m['scheme']}{m['w_bits']}"
    if m["scheme_tag"] != tag:
        _fail(MANIFEST, f"scheme_tag {m['scheme_tag']!r} does not match scheme/w_bits ({tag!r})")
    for key in ("wscale", "residual"):
        values = m[key]
        if len(values) != d["cout"]:
            _fail(MANIFEST, f"{key} has {len(values)} entries, layer.cout is {d['cout']}")
        bad = next((v for v in values if not (math.isfinite(v) and v > 0)), None)
        if bad is not None:
            _fail(MANIFEST, f"{key} entry {bad!r} is not a finite positive number")
    tile = m["tile"]
    if tile is not None and any(tile[k] != d[k] for k in ("cin", "cout", "h", "w")):
        _fail(MANIFEST, "tile cin/cout/h/w differ from layer")
    expected_hex = hex_files(m["pruning"])
    for filename in sorted(set(m["hex"]) - set(expected_hex)):
        _fail(MANIFEST, f"unexpected hex entry {filename} for pruning {m['pruning']!r}")
    for filename, (_key, signed, order) in expected_hex.items():
        spec = m["hex"].get(filename)
        if spec is None:
            _fail(MANIFEST, f"no hex entry for {filename}")
        if spec["signed"] is not signed or spec["order"] != order:
            _fail(MANIFEST, f"hex entry for {filename} must be signed={signed}, order={order!r}")


def _load_npz(data: bytes, m: dict) -> dict[str, np.ndarray]:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        _fail(NPZ, f"not a readable numpy archive ({exc})")
    spec = _expected_arrays(m)
    for key in sorted(set(spec) - set(arrays)):
        _fail(NPZ, f"missing array {key!r}")
    for key in sorted(set(arrays) - set(spec)):
        _fail(NPZ, f"unexpected array {key!r} for pruning {m['pruning']!r}")
    for key, (dtype, shape) in spec.items():
        a = arrays[key]
        if a.dtype != dtype:
            _fail(NPZ, f"{key!r} has dtype {a.dtype}, expected {np.dtype(dtype)}")
        if shape is not None and a.shape != shape:
            _fail(NPZ, f"{key!r} has shape {a.shape}, expected {shape}")
    if m["pruning"] == "ikr" and (arrays["patterns"].ndim != 3 or arrays["patterns"].shape[1:] != (3, 3)):
        _fail(NPZ, f"'patterns' has shape {arrays['patterns'].shape}, expected (P, 3, 3)")
    return arrays


def _check_semantics(m: dict, a: dict[str, np.ndarray], check_acc: bool) -> None:
    a_bits, w_bits = m["a_bits"], m["w_bits"]
    if a["act"].size and a["act"].max() >= (1 << a_bits):
        _fail(NPZ, f"'act' value {a['act'].max()} does not fit a_bits={a_bits}")
    if a["wcode"].size and a["wcode"].max() >= (1 << w_bits):
        _fail(NPZ, f"'wcode' has codes out of range for w_bits={w_bits} (max {a['wcode'].max()})")
    is_ios = m["scheme"] == "ios"
    try:
        levels = C.level_values(a["level_desc"]) if is_ios else np.zeros(C.N_LEVELS, np.int64)
        wint = C.decode(
            a["wcode"],
            m["scheme"],
            w_bits,
            m["exp1_bits"],
            m["exp2_bits"],
            a["level_desc"] if is_ios else None,
        )
        max_w = C.max_abs_weight(
            m["scheme"], w_bits, m["exp1_bits"], m["exp2_bits"], a["level_desc"] if is_ios else None
        )
    except C.CodeFormatError as exc:
        _fail(NPZ, f"invalid codes or level descriptors: {exc}")
    if not is_ios and a["level_desc"].any():
        _fail(NPZ, f"'level_desc' must be zeros for scheme {m['scheme']!r}")
    _check_ios_codebook(m, a["level_desc"], is_ios)
    if not np.array_equal(a["levels"], levels):
        _fail(NPZ, "'levels' do not match 'level_desc'")
    if not np.array_equal(a["lut"], R.product_table(levels, a_bits)):
        _fail(NPZ, "'lut' is not the product table v*levels[j]")
    if not np.array_equal(a["wint"], wint):
        _fail(NPZ, "'wint' does not decode from 'wcode'")
    if (a["wint"][~a["mask"]] != 0).any():
        _fail(NPZ, "'wint' has non-zero weights at pruned ('mask' False) positions")
    if a["shift"].size and a["shift"].max() > 31:
        _fail(NPZ, f"'shift' value {a['shift'].max()} exceeds 31")
    d = m["layer"]
    expected_acc_bits = C.acc_bits(d["cin"], a_bits, max_w)
    if m["acc_bits"] != expected_acc_bits:
        _fail(MANIFEST, f"acc_bits={m['acc_bits']}, the format needs {expected_acc_bits}")
    n_patterns = a["patterns"].shape[0] if m["pruning"] == "ikr" else 0
    widths = hex_widths(w_bits, a_bits, m["acc_bits"], m["pruning"], n_patterns)
    for filename, bits in widths.items():
        if m["hex"][filename]["bits"] != bits:
            _fail(
                MANIFEST,
                f"hex entry for {filename} has bits={m['hex'][filename]['bits']}, the format needs {bits}",
            )
    lim = 1 << (m["acc_bits"] - 1)
    if a["acc"].size and (a["acc"].min() < -lim or a["acc"].max() >= lim):
        _fail(NPZ, f"'acc' exceeds acc_bits={m['acc_bits']}")
    if m["pruning"] == "krp":
        _check_krp(a)
    if m["pruning"] == "ikr":
        _check_ikr(a)
    if check_acc and not np.array_equal(a["acc"], R.acc_multiply(a["act"], a["wint"])):
        _fail(NPZ, "'acc' is not the convolution of 'act' and 'wint'")
    if not np.array_equal(a["out"], R.output_stage(a["acc"], a["bias"], a["shift"], a_bits)):
        _fail(NPZ, "'out' is not the output stage of 'acc', 'bias', 'shift'")


def scheme_names(m: dict) -> set[str]:
    """The pymodel scheme names a set claims: its name's first part (ios4s-krp-t32x32x8x8 -> ios4s)
    and the quantizer's recorded `quant_extra.scheme_name`."""
    names = {m["name"].split("-")[0]}
    extra = m.get("quant_extra")
    if isinstance(extra, dict) and isinstance(extra.get("scheme_name"), str):
        names.add(extra["scheme_name"])
    return names


def _check_ios_codebook(m: dict, level_desc: np.ndarray, is_ios: bool) -> None:
    """A set of a sign-symmetric scheme (pymodel.schemes `symmetric`, by its name or recorded
    scheme_name) must be ios with sign-symmetric descriptors (codes.is_sign_symmetric)."""
    from .schemes import SCHEMES

    symmetric_names = sorted(scheme_names(m) & {n for n, s in SCHEMES.items() if s.symmetric})
    if symmetric_names and not (is_ios and C.is_sign_symmetric(level_desc)):
        _fail(NPZ, f"'level_desc' is not sign-symmetric, as scheme {symmetric_names[0]} needs (scheme ios, "
                   "desc[m] with neg = 0 and desc[8+m] == desc[m] | 0x80 for m < 8)")


def _first_kernel(bad: np.ndarray) -> str:
    co, ci = np.argwhere(bad)[0]
    return f"(co={co}, ci={ci})"


def _check_krp(a: dict[str, np.ndarray]) -> None:
    """KRP: every kernel keeps exactly the whole row row_idx[co, ci] and nothing else."""
    row_idx = a["row_idx"]
    if row_idx.size and row_idx.max() > 2:
        _fail(NPZ, f"'row_idx' must be 0..2, kernel {_first_kernel(row_idx > 2)} has {row_idx.max()}")
    expected = np.arange(3)[None, None, :, None] == row_idx[:, :, None, None]
    bad = (a["mask"] != expected).any(axis=(2, 3))
    if bad.any():
        co, ci = np.argwhere(bad)[0]
        _fail(
            NPZ,
            f"'mask' of kernel {_first_kernel(bad)} does not keep exactly row row_idx={row_idx[co, ci]} "
            "(KRP keeps one whole row per kernel)",
        )


def _check_ikr(a: dict[str, np.ndarray]) -> None:
    """IKR: P >= 1 patterns of the same K >= 1 kept taps; pattern_id < P; mask follows the ids."""
    patterns, pattern_id = a["patterns"], a["pattern_id"]
    n_patterns = patterns.shape[0]
    if not 1 <= n_patterns <= 256:
        _fail(NPZ, f"'patterns' has {n_patterns} patterns, IKR needs 1..256 (uint8 pattern ids)")
    kept = patterns.reshape(n_patterns, K.TAPS).sum(axis=1)
    if kept.min() < 1 or (kept != kept[0]).any():
        _fail(
            NPZ,
            f"'patterns' must all keep the same number K >= 1 of taps, they keep "
            f"{sorted(set(kept.tolist()))}",
        )
    if pattern_id.size and pattern_id.max() >= n_patterns:
        bad = pattern_id >= n_patterns
        _fail(
            NPZ,
            f"'pattern_id' of kernel {_first_kernel(bad)} is {pattern_id[bad][0]}, past the "
            f"{n_patterns}-pattern library",
        )
    bad = (a["mask"] != patterns[pattern_id]).any(axis=(2, 3))
    if bad.any():
        co, ci = np.argwhere(bad)[0]
        _fail(
            NPZ,
            f"'mask' of kernel {_first_kernel(bad)} is not patterns[pattern_id={pattern_id[co, ci]}]",
        )


def _check_hex_content(path: Path, m: dict, a: dict[str, np.ndarray], contents: dict[str, bytes]) -> None:
    """Every hex file holds exactly the npz array in its documented order and width."""
    for filename, (key, signed, _order) in hex_files(m["pruning"]).items():
        spec = m["hex"][filename]
        expected = hex_array(filename, a).ravel().astype(np.int64)
        if spec["count"] != expected.size:
            _fail(
                MANIFEST, f"hex entry for {filename} has count={spec['count']}, '{key}' has {expected.size}"
            )
        got = read_hex(path / filename, spec["bits"], signed, contents[filename])
        if got.size != expected.size:
            _fail(filename, f"{got.size} lines, expected {expected.size} (from '{key}' in {NPZ})")
        diff = np.flatnonzero(got != expected)
        if diff.size:
            i = int(diff[0])
            _fail(
                filename,
                f"line {i + 1} is {got[i]}, but {NPZ} '{key}' gives {expected[i]} "
                f"({diff.size} lines differ; hex file and npz disagree)",
            )


def load_vectors(path: str | Path, check_acc: bool = True) -> VectorSet:
    """Load and validate a vector set directory (or its manifest.json).

    Checks (docs/vector_format.md, "What a valid set is") strict JSON within the size and nesting
    limits, the manifest schema (pymodel.vector_schema), format, version, manifest integrity,
    that the listed files are exactly the set's regular files, their size and sha256, array keys,
    dtypes and shapes, bit widths and value ranges, that wint decodes from wcode, the KRP/IKR
    metadata against the mask, that out (and, with check_acc, acc) follow from the inputs, and
    that every hex file equals its npz array. Raises VectorFormatError with a
    one-line "<file>: <problem>" message.
    """
    path = Path(path)
    if path.name == MANIFEST and path.is_file():
        path = path.parent
    manifest = _read_manifest(path)
    _check_manifest_values(manifest)
    contents = _check_files(path, manifest)
    arrays = _load_npz(contents[NPZ], manifest)
    _check_semantics(manifest, arrays, check_acc)
    _check_hex_content(path, manifest, arrays, contents)
    return VectorSet(path, manifest, arrays)


def remove_stale_sets(out_dir: str | Path) -> list[str]:
    """Delete the vector sets under out_dir written in an older format version (no reader of this
    version can load them, and testbenches that scan the directory would trip over them).
    Returns their names; sets of the current version and anything else are left alone."""
    removed = []
    for mpath in sorted(Path(out_dir).glob(f"*/{MANIFEST}")):
        try:
            m, _ = read_json_file(mpath, MANIFEST, S.MAX_MANIFEST_BYTES)
        except VectorFormatError:
            continue  # not ours to judge here: `pymodel check` names the problem
        if not isinstance(m, dict):
            continue
        version = m.get("version")
        if (
            m.get("format") == FORMAT
            and isinstance(version, int)
            and not isinstance(version, bool)
            and version < VERSION
        ):
            shutil.rmtree(mpath.parent)
            removed.append(mpath.parent.name)
    return removed


def write_index(out_dir: str | Path, set_paths: list[Path], header: dict) -> Path:
    """build/vectors/index.json: the sets of one export run and their headline metadata."""
    out_dir = Path(out_dir)
    entries = []
    for p in set_paths:
        m = _read_manifest(p)
        entries.append(
            {
                "name": m["name"],
                "path": p.name,
                "scheme": m["scheme"],
                "scheme_tag": m["scheme_tag"],
                "pruning": m["pruning"],
                "refit": m["refit"],
                "a_bits": m["a_bits"],
                "w_bits": m["w_bits"],
                "acc_bits": m["acc_bits"],
                "layer": m["layer"],
                "tile": m["tile"],
                "stress": m.get("stress", False),
            }
        )
    index = {"format": "conv-vectors-index", "version": VERSION, **header, "sets": entries}
    out = out_dir / "index.json"
    out.write_text(json.dumps(index, indent=1, allow_nan=False) + "\n")
    return out
