"""Synthetic stress vector sets: every code, maximum activations, spread outputs, real IKR library."""

from __future__ import annotations

import argparse
import hashlib

import numpy as np
import pytest

from pymodel import codes as C
from pymodel import export, schemes
from pymodel import reference as R
from pymodel import stress as S
from pymodel import vectors as V
from pymodel.quant import _IOS_GAINS

LARGE, SMALL = S.STRESS_SHAPES
SHAPE_TAGS = [f"t{cin}x{cout}x{h}x{w}" for cin, cout, h, w in S.STRESS_SHAPES]
NAMES = [
    f"{tag}-{p}-stress-{shape}"
    for tag in export.HARDWARE_SCHEMES
    for p in ("dense", "krp", "ikr")
    for shape in SHAPE_TAGS
]


def export_args(seed: int = 0) -> argparse.Namespace:
    return argparse.Namespace(seed=seed, a_bits=8)


@pytest.fixture(scope="module")
def ikr_library(conv8):
    """The library the real IKR export uses (schemes.make_layer -> make_mask defaults)."""
    return schemes.make_mask(conv8.weight, "ikr")[1]["patterns"]


@pytest.fixture(scope="module")
def stress_dir(tmp_path_factory, conv8):
    out = tmp_path_factory.mktemp("stress")
    paths = export.export_stress_sets(
        export_args(), out, list(export.HARDWARE_SCHEMES), list(schemes.PRUNINGS), conv8, {}
    )
    assert sorted(p.name for p in paths) == sorted(NAMES)
    return out


@pytest.fixture(scope="module")
def stress_sets(stress_dir):
    return {name: V.load_vectors(stress_dir / name) for name in NAMES}  # every check, check_acc on


def test_names_and_labels(stress_sets):
    assert len(stress_sets) == 6 * len(export.HARDWARE_SCHEMES) and "ios4s" in export.HARDWARE_SCHEMES
    for name, vs in stress_sets.items():
        m = vs.manifest
        assert m["stress"] is True and m["tile"] is None and m["refit"] is False, name
        assert m["weights_source"].startswith("synthetic(stress: every code, max activations, seed "), name
        assert m["activations_source"].startswith("synthetic(stress: "), name
        assert m["weights_source"].endswith(f"seed {m['seed']})")
        cin, cout, h, w = (m["layer"][k] for k in ("cin", "cout", "h", "w"))
        tag = name.split("-")[0]  # the scheme name (ios4s sets carry the ios4 format tag)
        assert m["scheme_tag"] == ("ios4" if m["scheme"] == "ios" else tag), name
        assert name == V.stress_set_name(tag, m["pruning"], cin, cout, h, w)
        # acc_bits: the format's worst case, as for every other set
        max_w = C.max_abs_weight(
            m["scheme"],
            m["w_bits"],
            m["exp1_bits"],
            m["exp2_bits"],
            vs.level_desc if m["scheme"] == "ios" else None,
        )
        assert m["acc_bits"] == C.acc_bits(cin, 8, max_w)


@pytest.mark.parametrize("name", [n for n in NAMES if n.endswith(SHAPE_TAGS[0])])
def test_larger_shape_has_every_code_and_spread_outputs(stress_sets, name):
    vs = stress_sets[name]
    n_codes = 1 << vs.manifest["w_bits"]
    kept = vs.wcode[vs.mask]
    assert set(np.unique(kept).tolist()) == set(range(n_codes)), "every code on a kept position"
    if vs.manifest["scheme"] == "pot":  # "negative zero" {s=1, m=0}
        assert (kept == 8).any()
    if vs.manifest["scheme"] == "apot":
        assert (kept == 0b100000).any() and (kept == 0b000100).any() and (kept == 0b100100).any()
    top = (1 << vs.a_bits) - 1
    assert (vs.act == top).mean() > 0.3 and (vs.act == 0).mean() > 0.1
    assert len(np.unique(vs.act)) > 100
    assert (vs.out == 0).any() and (vs.out == top).any()
    inner = vs.out[(vs.out > 0) & (vs.out < top)]
    assert len(np.unique(inner)) >= 20, "outputs spread between the clamps"
    assert (vs.shift == 0).any() and (vs.shift > 0).any()  # both output-stage branches


@pytest.mark.parametrize("name", NAMES)
def test_pruned_positions_hold_the_zero_code(stress_sets, name):
    vs = stress_sets[name]
    m = vs.manifest
    zero = S.zero_code(m["scheme"], m["w_bits"], m["exp1_bits"], m["exp2_bits"], vs.level_desc)
    assert (vs.wcode[~vs.mask] == zero).all() and (vs.wint[~vs.mask] == 0).all()
    if m["pruning"] == "dense":
        assert vs.mask.all()
    # as many distinct codes as kept positions allow (the small shape cannot hold all 256 int8 codes)
    assert len(np.unique(vs.wcode[vs.mask])) == min(int(vs.mask.sum()), 1 << m["w_bits"])


def test_krp_rows_and_ikr_library(stress_sets, ikr_library):
    for name, vs in stress_sets.items():
        if vs.manifest["pruning"] == "krp" and name.endswith(SHAPE_TAGS[0]):
            assert set(np.unique(vs.row_idx).tolist()) == {0, 1, 2}
        if vs.manifest["pruning"] == "ikr":
            np.testing.assert_array_equal(vs.patterns, ikr_library)
            assert vs.manifest["quant_extra"]["n_patterns"] == len(ikr_library) == 8
            assert vs.manifest["quant_extra"]["ikr_k"] == 4 == ikr_library[0].sum()
            if name.endswith(SHAPE_TAGS[0]):
                assert len(np.unique(vs.pattern_id)) == len(ikr_library)


def test_ikr_library_taken_from_exported_layer(tmp_path, conv8):
    """With an IKR layer at hand the exporter reuses its library (no recomputation)."""
    library = np.zeros((3, 3, 3), bool)
    library[0, 0, :] = library[1, :, 1] = library[2, 2, :] = True
    fake = type("L", (), {"patterns": library})()
    paths = export.export_stress_sets(
        export_args(), tmp_path, ["pot4"], ["ikr"], conv8, {("pot4", "ikr", True): fake}
    )
    assert [p.name for p in paths] == [f"pot4-ikr-stress-{s}" for s in SHAPE_TAGS]
    vs = V.load_vectors(paths[0])
    np.testing.assert_array_equal(vs.patterns, library)
    assert vs.manifest["hex"]["patid.hex"]["bits"] == 2


def test_ios_levels_reach_the_extremes(stress_sets):
    assert S.IOS_MAX_EXP == 7 == int(np.log2(max(_IOS_GAINS)))
    desc = S.ios_stress_levels()
    levels = C.level_values(desc)
    assert desc[0] == 0 and levels[0] == 0 and len(set(levels.tolist())) == 16
    d = desc[1:].astype(int)
    assert ((d & 15) == S.IOS_MAX_EXP).any() and (d & 15).max() == S.IOS_MAX_EXP
    assert set(((d >> 4) & 7).tolist()) == {1, 3, 5, 7}
    assert (levels > 0).any() and (levels < 0).any()
    assert levels.max() == 7 << S.IOS_MAX_EXP == -levels.min()
    for shape in SHAPE_TAGS:
        vs = stress_sets[f"ios4-dense-stress-{shape}"]
        np.testing.assert_array_equal(vs.level_desc, desc)
        assert vs.manifest["quant_extra"]["level_exp_max"] == S.IOS_MAX_EXP
        assert vs.manifest["quant_extra"]["ios_symmetric"] is False
        assert vs.manifest["acc_bits"] == C.acc_bits(vs.dims["cin"], 8, 7 << S.IOS_MAX_EXP)
    vs = stress_sets[f"ios4-dense-stress-{SHAPE_TAGS[0]}"]
    assert (vs.wint == 7 << S.IOS_MAX_EXP).any() and (vs.wint == -(7 << S.IOS_MAX_EXP)).any()
    assert vs.lut.max() == 255 * (7 << S.IOS_MAX_EXP) == -vs.lut.min()


def test_ios4s_stress_levels_are_symmetric_at_the_bound(stress_sets):
    bound = schemes.SCHEMES["ios4s"].level_exp_max
    desc = S.ios_sym_stress_levels(bound)
    assert C.is_sign_symmetric(desc) and C.level_exp_max(desc) == bound
    mags = C.level_values(desc)[:8]
    assert mags[0] == 0 and (np.diff(mags) > 0).all() and mags[-1] == 7 << bound
    assert set(((desc[1:8] >> 4) & 7).tolist()) == {1, 3, 5, 7}
    for shape in SHAPE_TAGS:
        for pruning in ("dense", "krp", "ikr"):
            vs = stress_sets[f"ios4s-{pruning}-stress-{shape}"]
            np.testing.assert_array_equal(vs.level_desc, desc)
            extra = vs.manifest["quant_extra"]
            assert extra["ios_symmetric"] is True and extra["level_exp_max"] == bound
    vs = stress_sets[f"ios4s-dense-stress-{SHAPE_TAGS[0]}"]
    assert (vs.wcode == 8).any() and (vs.wint == 7 << bound).any() and (vs.wint == -(7 << bound)).any()


def test_stable_seed_per_set(tmp_path, stress_dir, conv8):
    """A set's content depends on its name and --seed only, not on which other sets are exported."""
    paths = export.export_stress_sets(export_args(), tmp_path, ["int4"], ["krp"], conv8, {})
    for p in paths:
        for f in ("vectors.npz", "wcode.hex", "out.hex", "rowidx.hex"):
            assert (
                hashlib.sha256((p / f).read_bytes()).digest()
                == hashlib.sha256((stress_dir / p.name / f).read_bytes()).digest()
            ), f"{p.name}/{f}"
    other = export.export_stress_sets(export_args(seed=1), tmp_path / "s1", ["int4"], ["krp"], conv8, {})
    assert (other[0] / "vectors.npz").read_bytes() != (paths[0] / "vectors.npz").read_bytes()


def test_small_shape_and_requant_formula():
    rng = np.random.default_rng(3)
    acc = rng.integers(-(10**6), 10**6, (5, 2, 1))
    bias, shift, residual = S.stress_requant(rng, acc, 8)
    assert bias.dtype == np.int32 and shift.dtype == np.uint8 and shift[0] == 0
    np.testing.assert_array_equal(residual, 2.0 ** shift.astype(float))
    R.output_stage(acc, bias, shift, 8)  # in the engine's ranges
    with pytest.raises(ValueError, match="ikr stress sets need the pattern library"):
        S.make_stress_set("pot4", "pot", 4, 3, 0, "ikr", SMALL, 0)
    with pytest.raises(ValueError, match="stress sets support pruning"):
        S.make_stress_set("pot4", "pot", 4, 3, 0, "unstructured", SMALL, 0)
