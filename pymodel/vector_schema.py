"""What a valid vector set is, as data: the JSON Schemas of manifest.json and index.json and the
size / nesting limits (docs/vector_format.md, "What a valid set is"). pymodel.vectors validates
with them; the C++ reader of the HLS testbenches (hls/tb/vector_io.h) implements the same rules
and tests/test_malformed_sets.py holds both to the same verdict on a table of malformed sets."""

from __future__ import annotations

from . import contract as K

MAX_JSON_DEPTH = 8  # arrays/objects nested deeper than this are refused before parsing
MAX_MANIFEST_BYTES = 1 << 20  # a whole-layer manifest is ~27 kB
MAX_INDEX_BYTES = 4 << 20
MAX_FILE_BYTES = 256 << 20  # any listed file (the whole-layer npz is ~11 MB)
MAX_DIM = 65535  # layer.cin/cout/h/w: the kernels' 16-bit size registers
MAX_COUNT = 1 << 31

NPZ = "vectors.npz"
HEX_NAMES = tuple(K.VECTOR_HEX)  # the contract's vector hex files (spec/conv_engine.hjson)
TILE_KEYS = ("cin_offset", "cin", "cout_offset", "cout", "y0", "h", "x0", "w")
SET_NAME_PATTERN = "^[a-z0-9][a-z0-9._-]{0,127}$"  # also a plain directory name: no '/', no '..'
SHA256_PATTERN = "^[0-9a-f]{64}$"


def _int(lo: int, hi: int) -> dict:
    return {"type": "integer", "minimum": lo, "maximum": hi}


_DIM = _int(1, MAX_DIM)
_TEXT = {"type": "string", "maxLength": 4096}

MANIFEST_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "conv-vectors manifest.json, version 2",
    "type": "object",
    "required": [
        "format",
        "version",
        "name",
        "scheme",
        "scheme_tag",
        "pruning",
        "refit",
        "w_bits",
        "exp1_bits",
        "exp2_bits",
        "a_bits",
        "acc_bits",
        "layer",
        "tile",
        "stress",
        "wscale",
        "residual",
        "hex",
        "files",
        "weights_source",
        "activations_source",
        "seed",
        "manifest_sha256",
    ],  # fmt: skip
    "properties": {
        "format": {"const": "conv-vectors"},
        "version": {"type": "integer", "const": 2},
        "name": {"type": "string", "pattern": SET_NAME_PATTERN},
        "scheme": {"enum": ["int", "pot", "apot", "ios"]},
        "scheme_tag": {"type": "string", "pattern": "^(int|pot|apot|ios)[1-8]$"},
        "pruning": {"enum": ["dense", "unstructured", "krp", "ikr"]},
        "refit": {"type": "boolean"},
        "stress": {"type": "boolean"},
        "w_bits": _int(*K.W_BITS_RANGE),
        "exp1_bits": _int(0, 4),
        "exp2_bits": _int(0, 4),
        "a_bits": _int(*K.A_BITS_RANGE),
        "acc_bits": _int(*K.ACC_BITS_RANGE),
        "seed": _int(0, (1 << 63) - 1),
        "a_frac": _int(-64, 64),
        "out_frac": _int(-64, 64),
        "layer": {
            "type": "object",
            "required": ["cin", "cout", "h", "w", "k", "stride", "pad"],
            "additionalProperties": False,
            "properties": {
                "cin": _DIM,
                "cout": _DIM,
                "h": _DIM,
                "w": _DIM,
                "k": _int(3, 3),
                "stride": _int(1, 1),
                "pad": _int(1, 1),
            },  # fmt: skip
        },
        "tile": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": list(TILE_KEYS),
                    "additionalProperties": False,
                    "properties": {k: _int(0, MAX_DIM) for k in TILE_KEYS},
                },
            ]
        },
        # finite and > 0 is checked in code (JSON Schema cannot say "finite")
        "wscale": {"type": "array", "maxItems": MAX_DIM, "items": {"type": "number"}},
        "residual": {"type": "array", "maxItems": MAX_DIM, "items": {"type": "number"}},
        "hex": {
            "type": "object",
            "propertyNames": {"enum": list(HEX_NAMES)},
            "additionalProperties": {
                "type": "object",
                "required": ["bits", "signed", "order", "count"],
                "additionalProperties": False,
                "properties": {
                    "bits": _int(1, 64),  # any field of a $readmemh file up to 64 bits
                    "signed": {"type": "boolean"},
                    "order": {"type": "string", "maxLength": 32},
                    "count": _int(0, MAX_COUNT),
                },
            },
        },
        "files": {
            "type": "object",
            "propertyNames": {"enum": [NPZ, *HEX_NAMES]},
            "additionalProperties": {
                "type": "object",
                "required": ["sha256", "bytes"],
                "additionalProperties": False,
                "properties": {
                    "sha256": {"type": "string", "pattern": SHA256_PATTERN},
                    "bytes": _int(0, MAX_FILE_BYTES),
                },
            },
        },
        "weights_source": _TEXT,
        "activations_source": _TEXT,
        "layer_name": _TEXT,
        "tile_requant": _TEXT,
        "stress_requant": _TEXT,
        "quant_extra": {"type": "object"},
        "manifest_sha256": {"type": "string", "pattern": SHA256_PATTERN},
    },
}

_INDEX_ENTRY = {
    "type": "object",
    "required": [
        "name",
        "path",
        "scheme",
        "scheme_tag",
        "pruning",
        "refit",
        "a_bits",
        "w_bits",
        "acc_bits",
        "layer",
        "tile",
        "stress",
    ],  # fmt: skip
    "properties": {
        "path": {"type": "string", "pattern": SET_NAME_PATTERN},
        **{
            k: MANIFEST_SCHEMA["properties"][k]
            for k in (
                "name",
                "scheme",
                "scheme_tag",
                "pruning",
                "refit",
                "a_bits",
                "w_bits",
                "acc_bits",
                "layer",
                "tile",
                "stress",
            )
        },  # fmt: skip
    },
}

INDEX_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "conv-vectors-index index.json, version 2",
    "type": "object",
    "required": ["format", "version", "sets"],
    "properties": {
        "format": {"const": "conv-vectors-index"},
        "version": {"type": "integer", "const": 2},
        "sets": {"type": "array", "maxItems": 10000, "items": _INDEX_ENTRY},
    },
}
