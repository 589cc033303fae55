"""Vector sets: export -> load round trip, hex files, tiles, and rejection of damaged sets."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pymodel import codes as C
from pymodel import reference as R
from pymodel import vectors as V
from pymodel.types import QuantizedLayer
from tests.vector_edit import reseal

META = {
    "weights_source": "test(random codes)",
    "activations_source": "test(random)",
    "seed": 0,
    "a_frac": 3,
    "out_frac": 1,
}


def random_layer(scheme: str, pruning: str, cout: int, cin: int, seed: int = 0) -> QuantizedLayer:
    rng = np.random.default_rng(seed)
    w_bits, e1, e2 = {"int": (8, 0, 0), "pot": (4, 3, 0), "apot": (6, 2, 2), "ios": (4, 0, 0)}[scheme]
    level_desc = None
    if scheme == "ios":
        level_desc = np.array(
            [0] + [C.encode_level(v) for v in (1, -1, 2, -2, 3, -3, 5, -5, 7, -7, 12, -12, 40, -56, 96)],
            np.uint8,
        )
    codes = rng.integers(0, 1 << w_bits, (cout, cin, 3, 3)).astype(np.uint8)
    zero_code = {"int": 0, "pot": 0, "apot": 0, "ios": 0}[scheme]
    mask = np.ones(codes.shape, bool)
    extra = {}
    if pruning == "unstructured":
        mask = rng.random(codes.shape) < 0.33
    if pruning == "krp":
        extra["row_idx"] = rng.integers(0, 3, (cout, cin)).astype(np.uint8)
        mask = np.arange(3)[None, None, :, None] == extra["row_idx"][:, :, None, None]
        mask = np.broadcast_to(mask, codes.shape).copy()
    if pruning == "ikr":  # 8 distinct patterns of K=4 taps
        extra["patterns"] = np.zeros((8, 9), bool)
        for p, taps in enumerate(rng.permutation(126)[:8]):
            extra["patterns"][p, list(itertools.combinations(range(9), 4))[taps]] = True
        extra["patterns"] = extra["patterns"].reshape(8, 3, 3)
        extra["pattern_id"] = rng.integers(0, 8, (cout, cin)).astype(np.uint8)
        mask = extra["patterns"][extra["pattern_id"]]
    codes[~mask] = zero_code
    wint = C.decode(codes, scheme, w_bits, e1, e2, level_desc)
    return QuantizedLayer(
        scheme,
        pruning,
        True,
        w_bits,
        e1,
        e2,
        codes,
        wint,
        2.0 ** -rng.integers(4, 9, cout),
        mask,
        rng.normal(0, 0.5, cout).astype(np.float32),
        level_desc=level_desc,
        **extra,
    )


def export(
    tmp_path: Path, layer: QuantizedLayer, a_bits: int = 8, h: int = 5, w: int = 7, seed: int = 1
) -> Path:
    rng = np.random.default_rng(seed)
    act = rng.integers(0, 1 << a_bits, (layer.codes.shape[1], h, w)).astype(np.uint8)
    bias_int, shift, residual = R.requant_params(layer, None, META["a_frac"], META["out_frac"])
    return V.export_vectors(tmp_path, layer, act, a_bits, bias_int, shift, residual, META)


@pytest.fixture
def small_set(tmp_path) -> Path:
    return export(tmp_path, random_layer("int", "dense", 6, 8))


def rewrite_npz(path: Path, **changes) -> None:
    with np.load(path / "vectors.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(changes)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    (path / "vectors.npz").write_bytes(buf.getvalue())
    reseal(path)


@pytest.mark.parametrize("scheme", ["int", "pot", "apot", "ios"])
@pytest.mark.parametrize("pruning", ["dense", "unstructured", "krp", "ikr"])
def test_round_trip(tmp_path, scheme, pruning):
    layer = random_layer(scheme, pruning, 6, 8, seed=hash((scheme, pruning)) % 1000)
    path = export(tmp_path, layer, a_bits=6)
    vs = V.load_vectors(path)
    assert vs.name == V.set_name(layer, 6) and path.name == vs.name
    np.testing.assert_array_equal(vs.wcode, layer.codes)
    np.testing.assert_array_equal(vs.wint, layer.wint)
    np.testing.assert_array_equal(vs.mask, layer.mask)
    np.testing.assert_array_equal(vs.acc, R.acc_int64(vs.act, layer.wint))
    np.testing.assert_array_equal(vs.out, R.output_stage(vs.acc, vs.bias, vs.shift, 6))
    assert vs.manifest["acc_bits"] == R.acc_bits_for(layer, 8, 6)
    assert vs.manifest["layer"] == {"cin": 8, "cout": 6, "h": 5, "w": 7, "k": 3, "stride": 1, "pad": 1}
    assert vs.manifest["wscale"] == layer.wscale.tolist()
    if scheme == "ios":
        np.testing.assert_array_equal(vs.lut, np.arange(64)[:, None] * C.level_values(layer.level_desc)[None])
    else:
        assert not vs.lut.any() and not vs.level_desc.any()
    assert ("row_idx" in vs.arrays) == (pruning == "krp")
    assert ("patterns" in vs.arrays) == (pruning == "ikr")
    hex_names = {p.name for p in path.glob("*.hex")}
    assert hex_names == set(vs.manifest["hex"]) == set(V.hex_files(pruning))
    assert ("rowidx.hex" in hex_names) == (pruning == "krp")
    assert ("patid.hex" in hex_names) == ("patterns.hex" in hex_names) == (pruning == "ikr")
    assert vs.manifest["version"] == 2 and vs.manifest["stress"] is False


def parse_hex_plain(path: Path, bits: int, signed: bool) -> np.ndarray:
    """Parse a hex file with plain int(), independent of the vectorised writer/reader."""
    vals = np.array([int(line, 16) for line in path.read_text().splitlines()], dtype=np.int64)
    return np.where(vals >= 1 << (bits - 1), vals - (1 << bits), vals) if signed else vals


@pytest.mark.parametrize("pruning", ["krp", "ikr"])
def test_hex_files_parse_back_to_npz(tmp_path, pruning):
    layer = random_layer("ios", pruning, 5, 7)
    vs = V.load_vectors(export(tmp_path, layer, a_bits=8, h=4, w=6))
    orders = {
        "act.hex": vs.act.transpose(1, 2, 0),
        "wcode.hex": vs.wcode,
        "bias.hex": vs.bias,
        "shift.hex": vs.shift,
        "levels.hex": vs.level_desc,
        "lut.hex": vs.lut,
        "acc.hex": vs.acc,
        "out.hex": vs.out,
    }
    if pruning == "krp":
        orders["rowidx.hex"] = vs.row_idx
    else:
        orders["patid.hex"] = vs.pattern_id
        # 9-bit masks, bit ky*3+kx, written out by hand
        orders["patterns.hex"] = np.array(
            [sum(1 << (ky * 3 + kx) for ky in range(3) for kx in range(3) if p[ky, kx]) for p in vs.patterns]
        )
    assert set(orders) == set(vs.manifest["hex"])
    for name, expected in orders.items():
        spec = vs.manifest["hex"][name]
        text = (vs.path / name).read_text().splitlines()
        assert len(text) == expected.size == spec["count"]
        assert all(len(line) == -(-spec["bits"] // 4) for line in text)
        vals = parse_hex_plain(vs.path / name, spec["bits"], spec["signed"])
        np.testing.assert_array_equal(vals, expected.ravel(), err_msg=name)
        np.testing.assert_array_equal(
            V.read_hex(vs.path / name, spec["bits"], spec["signed"]), expected.ravel()
        )
    assert vs.manifest["hex"]["bias.hex"]["bits"] == 32 and (vs.bias < 0).any()  # two's complement exercised
    hexes = vs.manifest["hex"]
    if pruning == "krp":
        assert hexes["rowidx.hex"] == {"bits": 2, "signed": False, "order": "co,ci", "count": 35}
    else:
        assert hexes["patid.hex"] == {"bits": 3, "signed": False, "order": "co,ci", "count": 35}
        assert hexes["patterns.hex"] == {"bits": 9, "signed": False, "order": "p", "count": 8}
    for name in hexes:
        assert (
            vs.manifest["files"][name]["sha256"] == hashlib.sha256((vs.path / name).read_bytes()).hexdigest()
        )


@pytest.mark.parametrize(
    ("n_patterns", "bits"), [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (8, 3), (9, 4), (256, 8)]
)
def test_pattern_id_bits(n_patterns, bits):
    assert V.pattern_id_bits(n_patterns) == bits == max(1, int(np.ceil(np.log2(n_patterns))))


def test_ikr_with_one_or_three_patterns(tmp_path):
    """patid.hex width follows P: 1 bit for P=1 (and P=2), 2 bits for P=3."""
    for n_patterns, bits in ((1, 1), (3, 2)):
        layer = random_layer("pot", "ikr", 4, 3)
        patterns = layer.patterns[:n_patterns]
        pattern_id = (np.arange(12).reshape(4, 3) % n_patterns).astype(np.uint8)
        mask = patterns[pattern_id]
        codes = np.where(mask, layer.codes, 0).astype(np.uint8)
        layer = replace(
            layer,
            patterns=patterns,
            pattern_id=pattern_id,
            mask=mask,
            codes=codes,
            wint=C.decode(codes, "pot", 4, 3),
        )
        out = tmp_path / f"p{n_patterns}"
        vs = V.load_vectors(export(out, layer))
        assert vs.manifest["hex"]["patid.hex"]["bits"] == bits
        np.testing.assert_array_equal(V.read_hex(vs.path / "patid.hex", bits, False), pattern_id.ravel())


def test_full_layer_export_round_trip(tmp_path):
    """conv8-sized set (256 -> 512, 28x28): 1.18M-line wcode.hex, hashes, reload with acc check."""
    layer = random_layer("pot", "dense", 512, 256)
    path = export(tmp_path, layer, a_bits=8, h=28, w=28)
    vs = V.load_vectors(path)
    assert len((path / "wcode.hex").read_bytes()) == 512 * 256 * 9 * 2  # 1 digit + newline per code
    np.testing.assert_array_equal(V.read_hex(path / "wcode.hex", 4, False).reshape(vs.wcode.shape), vs.wcode)
    np.testing.assert_array_equal(V.read_hex(path / "acc.hex", 32, True).reshape(vs.acc.shape), vs.acc)


def test_tile_is_self_consistent(tmp_path):
    rng = np.random.default_rng(5)
    layer = random_layer("apot", "krp", 40, 24)
    act = rng.integers(0, 256, (24, 12, 14)).astype(np.uint8)
    bias_int, shift, residual = R.requant_params(layer, None, 3, 1)
    tile = V.make_tile(act, layer, (4, 20), (8, 40), (2, 9), (3, 13), bias_int, shift, residual)
    assert tile.info == {
        "cin_offset": 4,
        "cin": 16,
        "cout_offset": 8,
        "cout": 32,
        "y0": 2,
        "h": 7,
        "x0": 3,
        "w": 10,
    }
    np.testing.assert_array_equal(tile.layer.codes, layer.codes[8:40, 4:20])
    np.testing.assert_array_equal(tile.layer.row_idx, layer.row_idx[8:40, 4:20])
    np.testing.assert_array_equal(tile.bias_int, bias_int[8:40])
    path = V.export_vectors(
        tmp_path, tile.layer, tile.act, 8, tile.bias_int, tile.shift, tile.residual, META, tile=tile.info
    )
    vs = V.load_vectors(path)
    assert path.name.endswith("-t16x32x7x10") and vs.manifest["tile"] == tile.info
    # interior tile pixels see exactly the full map's neighbours: equal to the full-layer conv
    # restricted to the tile's input channels; edge pixels see zero padding instead
    full = R.acc_int64(act[4:20], layer.wint[8:40, 4:20])[:, 2:9, 3:13]
    np.testing.assert_array_equal(vs.acc[:, 1:-1, 1:-1], full[:, 1:-1, 1:-1])
    padded_crop = np.zeros((16, 9, 12), np.uint8)
    padded_crop[:, 1:-1, 1:-1] = act[4:20, 2:9, 3:13]
    np.testing.assert_array_equal(vs.acc, R.acc_int64(padded_crop, layer.wint[8:40, 4:20])[:, 1:-1, 1:-1])
    assert not np.array_equal(vs.acc, full)  # the zero padding at crop edges matters


def test_tile_bad_ranges(small_set):
    layer = random_layer("int", "dense", 6, 8)
    act = np.zeros((8, 5, 7), np.uint8)
    with pytest.raises(ValueError, match=r"tile cout range \[4, 9\) is empty or outside 0..6"):
        V.make_tile(act, layer, (0, 8), (4, 9), (0, 5), (0, 7))


# ----------------------------------------------------------------------------- damaged sets


def check_error(path: Path, message: str) -> None:
    with pytest.raises(V.VectorFormatError) as info:
        V.load_vectors(path)
    text = str(info.value)
    assert "\n" not in text
    assert message in text, text


def test_missing_manifest(small_set):
    (small_set / "manifest.json").unlink()
    check_error(small_set, f"manifest.json: missing in {small_set}")


def test_not_a_directory(tmp_path):
    check_error(tmp_path / "nope", "not a vector set directory")


def test_bad_json(small_set):
    (small_set / "manifest.json").write_text("{not json")
    check_error(small_set, "manifest.json: not valid JSON")


def test_wrong_kind_of_file(small_set):
    (small_set / "manifest.json").write_text(json.dumps({"format": "onnx-model", "version": 1}))
    check_error(small_set, "manifest.json: not a conv-vectors manifest (format='onnx-model')")
    (small_set / "manifest.json").write_text("[1, 2]")
    check_error(small_set, "manifest.json: not a conv-vectors manifest")


def test_wrong_version(small_set):
    manifest = json.loads((small_set / "manifest.json").read_text())
    manifest["version"] = 3
    reseal(small_set, manifest)
    check_error(small_set, "manifest.json: unsupported version 3 (this reader reads version 2)")


def test_version_1_asks_for_a_re_export(small_set):
    """A version-1 set (e.g. left in build/vectors by an older pymodel) must say how to fix it."""
    manifest = json.loads((small_set / "manifest.json").read_text())
    manifest["version"] = 1
    reseal(small_set, manifest)
    check_error(
        small_set,
        "manifest.json: version 1 is an older vector format (this reader reads version 2): "
        "re-export the vectors with `make vectors`",
    )


def test_remove_stale_sets(tmp_path):
    old = export(tmp_path, random_layer("int", "dense", 6, 8))
    new = export(tmp_path, random_layer("int", "krp", 6, 8))
    manifest = json.loads((old / "manifest.json").read_text())
    manifest["version"] = 1
    reseal(old, manifest)
    (tmp_path / "unrelated").mkdir()
    (tmp_path / "unrelated" / "manifest.json").write_text('{"format": "other", "version": 1}')
    assert V.remove_stale_sets(tmp_path) == [old.name]
    assert not old.exists() and new.exists() and (tmp_path / "unrelated").exists()
    V.load_vectors(new)


def test_tampered_manifest(small_set):
    manifest = json.loads((small_set / "manifest.json").read_text())
    manifest["a_bits"] = 7
    (small_set / "manifest.json").write_text(json.dumps(manifest))
    check_error(small_set, "manifest.json: content hash mismatch (manifest edited since export)")


def test_tampered_hex_file(small_set):
    data = bytearray((small_set / "acc.hex").read_bytes())
    data[3] = ord("0") if data[3] != ord("0") else ord("1")
    (small_set / "acc.hex").write_bytes(bytes(data))
    check_error(small_set, "acc.hex: sha256 mismatch (file changed since export)")


def test_truncated_npz(small_set):
    data = (small_set / "vectors.npz").read_bytes()
    (small_set / "vectors.npz").write_bytes(data[: len(data) // 2])
    check_error(
        small_set, f"vectors.npz: {len(data) // 2} bytes, manifest says {len(data)} (truncated or replaced)"
    )
    reseal(small_set)  # hashes match the truncated file: the archive itself must be rejected
    check_error(small_set, "vectors.npz: not a readable numpy archive")


def test_missing_file(small_set):
    (small_set / "out.hex").unlink()
    check_error(small_set, "out.hex: missing")


def test_pickled_array_rejected(small_set):
    rewrite_npz(small_set, acc=np.array([{"evil": 1}], dtype=object))
    check_error(small_set, "vectors.npz: not a readable numpy archive")


def test_wrong_shape(small_set):
    rewrite_npz(small_set, acc=np.zeros((6, 5, 6), np.int64))
    check_error(small_set, "vectors.npz: 'acc' has shape (6, 5, 6), expected (6, 5, 7)")


def test_wrong_dtype(small_set):
    rewrite_npz(small_set, wcode=np.zeros((6, 8, 3, 3), np.int16))
    check_error(small_set, "vectors.npz: 'wcode' has dtype int16, expected uint8")


def test_missing_and_unexpected_arrays(small_set):
    rewrite_npz(small_set, row_idx=np.zeros((6, 8), np.uint8))
    check_error(small_set, "vectors.npz: unexpected array 'row_idx' for pruning 'dense'")


def test_codes_out_of_range(tmp_path):
    path = export(tmp_path, random_layer("pot", "dense", 6, 8))
    vs = V.load_vectors(path)
    bad = vs.wcode.copy()
    bad[0, 0, 0, 0] = 16
    rewrite_npz(path, wcode=bad)
    check_error(path, "vectors.npz: 'wcode' has codes out of range for w_bits=4 (max 16)")


def test_activation_out_of_range(tmp_path):
    path = export(tmp_path, random_layer("int", "dense", 6, 8), a_bits=4)
    vs = V.load_vectors(path)
    rewrite_npz(path, act=np.full_like(vs.act, 16))
    check_error(path, "vectors.npz: 'act' value 16 does not fit a_bits=4")


def test_inconsistent_expected_values(small_set):
    vs = V.load_vectors(small_set)
    acc = vs.acc.copy()
    acc[0, 0, 0] += 1
    out = R.output_stage(acc, vs.bias, vs.shift, 8)
    write_hex_plain(small_set / "acc.hex", acc, 32)  # npz and hex files changed alike
    write_hex_plain(small_set / "out.hex", out, 8)
    rewrite_npz(small_set, acc=acc, out=out)
    check_error(small_set, "vectors.npz: 'acc' is not the convolution of 'act' and 'wint'")
    V.load_vectors(small_set, check_acc=False)  # documented opt-out
    rewrite_npz(small_set, acc=vs.acc, out=np.zeros_like(vs.out) + 3)
    check_error(small_set, "vectors.npz: 'out' is not the output stage of 'acc', 'bias', 'shift'")


def test_unsupported_widths_in_manifest(small_set):
    manifest = json.loads((small_set / "manifest.json").read_text())
    manifest["a_bits"] = 3
    reseal(small_set, manifest)
    check_error(small_set, "manifest.json: a_bits: 3 is less than the minimum of 4")
    manifest["a_bits"], manifest["w_bits"] = 8, 9
    reseal(small_set, manifest)
    check_error(small_set, "manifest.json: w_bits: 9 is greater than the maximum of 8")
    manifest["w_bits"] = 1  # in the schema's 1..8, but not an int code format
    reseal(small_set, manifest)
    check_error(small_set, "manifest.json: unsupported code format: int weights need 2..8 bits, got w_bits=1")


def test_export_rejects_bad_arguments(tmp_path):
    layer = random_layer("int", "dense", 6, 8)
    act = np.zeros((8, 4, 4), np.uint8)
    b, s, r = R.requant_params(layer, None, 0, 0)
    with pytest.raises(ValueError, match=r"a_bits must be 4..8"):
        V.export_vectors(tmp_path, layer, act, 3, b, s, r, META)
    with pytest.raises(ValueError, match="activations have 4 channels, the layer has Cin=8"):
        V.export_vectors(tmp_path, layer, act[:4], 8, b, s, r, META)
    with pytest.raises(ValueError, match="meta is missing"):
        V.export_vectors(tmp_path, layer, act, 8, b, s, r, {})
    with pytest.raises(ValueError, match=r"shift must have shape \(6,\)"):
        V.export_vectors(tmp_path, layer, act, 8, b, s[:3], r, META)


# ----------------------------------------------------------------------------- KRP / IKR metadata


def write_hex_plain(path: Path, values, bits: int) -> None:
    digits = -(-bits // 4)
    path.write_text("".join(f"{int(v) & ((1 << bits) - 1):0{digits}x}\n" for v in np.ravel(values)))


@pytest.fixture
def krp_set(tmp_path) -> Path:
    return export(tmp_path, random_layer("pot", "krp", 6, 8))


@pytest.fixture
def ikr_set(tmp_path) -> Path:
    return export(tmp_path, random_layer("apot", "ikr", 6, 8))


def test_rowidx_hex_inconsistent_with_mask(krp_set):
    """rowidx.hex edited (and the manifest re-hashed): the npz still says otherwise."""
    vs = V.load_vectors(krp_set)
    row_idx = vs.row_idx.copy()
    row_idx[0, 1] = (row_idx[0, 1] + 1) % 3
    write_hex_plain(krp_set / "rowidx.hex", row_idx, 2)
    reseal(krp_set)
    check_error(
        krp_set, f"rowidx.hex: line 2 is {row_idx[0, 1]}, but vectors.npz 'row_idx' gives {vs.row_idx[0, 1]}"
    )


def test_row_idx_inconsistent_with_mask(krp_set):
    """row_idx changed in the npz and rowidx.hex alike, hashes redone: only the mask disagrees."""
    vs = V.load_vectors(krp_set)
    row_idx = vs.row_idx.copy()
    row_idx[2, 3] = (row_idx[2, 3] + 1) % 3
    write_hex_plain(krp_set / "rowidx.hex", row_idx, 2)
    rewrite_npz(krp_set, row_idx=row_idx)
    check_error(
        krp_set,
        f"vectors.npz: 'mask' of kernel (co=2, ci=3) does not keep exactly row row_idx={row_idx[2, 3]}",
    )


def test_krp_mask_with_extra_taps(krp_set):
    vs = V.load_vectors(krp_set)
    mask = vs.mask.copy()
    mask[1, 0, (vs.row_idx[1, 0] + 1) % 3, 2] = True  # a second row's tap (weight 0, so wint stays valid)
    rewrite_npz(krp_set, mask=mask)
    check_error(krp_set, "vectors.npz: 'mask' of kernel (co=1, ci=0) does not keep exactly row")


def test_row_idx_out_of_range(krp_set):
    vs = V.load_vectors(krp_set)
    row_idx = vs.row_idx.copy()
    row_idx[4, 5] = 3
    rewrite_npz(krp_set, row_idx=row_idx)
    check_error(krp_set, "vectors.npz: 'row_idx' must be 0..2, kernel (co=4, ci=5) has 3")


def test_patid_hex_inconsistent_with_mask(ikr_set):
    vs = V.load_vectors(ikr_set)
    pid = vs.pattern_id.copy()
    pid[0, 0] = (pid[0, 0] + 1) % 8
    write_hex_plain(ikr_set / "patid.hex", pid, 3)
    reseal(ikr_set)
    check_error(
        ikr_set, f"patid.hex: line 1 is {pid[0, 0]}, but vectors.npz 'pattern_id' gives {vs.pattern_id[0, 0]}"
    )


def test_pattern_id_inconsistent_with_mask(ikr_set):
    vs = V.load_vectors(ikr_set)
    pid = vs.pattern_id.copy()
    pid[3, 2] = (pid[3, 2] + 1) % 8
    write_hex_plain(ikr_set / "patid.hex", pid, 3)
    rewrite_npz(ikr_set, pattern_id=pid)
    check_error(
        ikr_set, f"vectors.npz: 'mask' of kernel (co=3, ci=2) is not patterns[pattern_id={pid[3, 2]}]"
    )


def test_pattern_id_past_library(ikr_set):
    vs = V.load_vectors(ikr_set)
    pid = vs.pattern_id.copy()
    pid[5, 7] = 8
    rewrite_npz(ikr_set, pattern_id=pid)
    check_error(ikr_set, "vectors.npz: 'pattern_id' of kernel (co=5, ci=7) is 8, past the 8-pattern library")


def test_patterns_hex_changed(ikr_set):
    vs = V.load_vectors(ikr_set)
    masks = V.pattern_masks(vs.patterns)
    masks[2] ^= 1 << 4
    write_hex_plain(ikr_set / "patterns.hex", masks, 9)
    reseal(ikr_set)
    check_error(ikr_set, "patterns.hex: line 3 is")


def test_patterns_of_unequal_size(ikr_set):
    vs = V.load_vectors(ikr_set)
    patterns = vs.patterns.copy()
    patterns[5] = True  # K=9 next to K=4
    rewrite_npz(ikr_set, patterns=patterns)
    check_error(
        ikr_set, "vectors.npz: 'patterns' must all keep the same number K >= 1 of taps, they keep [4, 9]"
    )
    rewrite_npz(ikr_set, patterns=np.zeros((8, 3, 3), bool))
    check_error(ikr_set, "they keep [0]")


def test_hex_entries_follow_pruning(krp_set, small_set):
    manifest = json.loads((krp_set / "manifest.json").read_text())
    del manifest["files"]["rowidx.hex"]
    reseal(krp_set, manifest)
    check_error(krp_set, "manifest.json: does not list required file rowidx.hex")
    manifest = json.loads((small_set / "manifest.json").read_text())
    manifest["hex"]["patid.hex"] = {"bits": 3, "signed": False, "order": "co,ci", "count": 48}
    reseal(small_set, manifest)
    check_error(small_set, "manifest.json: unexpected hex entry patid.hex for pruning 'dense'")


def test_hex_width_must_match_format(ikr_set):
    manifest = json.loads((ikr_set / "manifest.json").read_text())
    manifest["hex"]["patid.hex"]["bits"] = 4
    reseal(ikr_set, manifest)
    check_error(ikr_set, "manifest.json: hex entry for patid.hex has bits=4, the format needs 3")


def test_any_hex_file_must_equal_npz(small_set):
    """Not only the pruning files: e.g. out.hex edited and re-hashed is caught too."""
    lines = (small_set / "out.hex").read_text().splitlines()
    lines[-1] = "ff" if lines[-1] != "ff" else "00"
    (small_set / "out.hex").write_text("\n".join(lines) + "\n")
    reseal(small_set)
    check_error(small_set, f"out.hex: line {len(lines)} is")
    (small_set / "out.hex").write_text("\n".join(lines[:-1]) + "\n")
    reseal(small_set)
    check_error(small_set, f"out.hex: {len(lines) - 1} lines, expected {len(lines)}")


def _named_export(tmp_path: Path, layer: QuantizedLayer, name: str) -> Path:
    rng = np.random.default_rng(1)
    act = rng.integers(0, 256, (layer.codes.shape[1], 5, 7)).astype(np.uint8)
    bias_int, shift, residual = R.requant_params(layer, None, META["a_frac"], META["out_frac"])
    meta = {**META, "quant_extra": {"scheme_name": name.split("-")[0]}}
    return V.export_vectors(tmp_path, layer, act, 8, bias_int, shift, residual, meta, name=name)


def _symmetric_layer(pruning: str = "krp") -> QuantizedLayer:
    layer = random_layer("ios", pruning, 6, 8)
    half = np.array([C.encode_level(v) for v in (0, 1, 3, 6, 20, 32, 96, 224)], np.uint8)
    desc = np.concatenate([half, half | 0x80])
    return replace(layer, level_desc=desc, wint=C.decode(layer.codes, "ios", 4, level_desc=desc))


def test_symmetric_ios4s_set_loads(tmp_path):
    vs = V.load_vectors(_named_export(tmp_path, _symmetric_layer(), "ios4s-krp"))
    assert vs.level_desc[8] == 0x80 and vs.levels[8] == 0  # the "negative zero" passes every check
    assert C.is_sign_symmetric(vs.level_desc) and vs.manifest["acc_bits"] == C.acc_bits(8, 8, 224)


def test_asymmetric_ios4s_set_is_refused(tmp_path):
    asym = random_layer("ios", "krp", 6, 8)  # ios4's free 16-level codebook
    path = _named_export(tmp_path, asym, "ios4s-krp-t6x8x5x7")
    check_error(path, "vectors.npz: 'level_desc' is not sign-symmetric, as scheme ios4s needs")
    # by the recorded scheme name too, whatever the set is called
    layer = random_layer("ios", "dense", 6, 8)
    rng = np.random.default_rng(1)
    act = rng.integers(0, 256, (8, 5, 7)).astype(np.uint8)
    path = V.export_vectors(tmp_path, layer, act, 8, *R.requant_params(layer, None, 3, 1),
                            {**META, "quant_extra": {"scheme_name": "ios4s"}}, name="renamed")
    check_error(path, "'level_desc' is not sign-symmetric")
    path = _named_export(tmp_path, random_layer("pot", "dense", 6, 8), "ios4s-dense")  # not even ios
    check_error(path, "'level_desc' is not sign-symmetric")
