"""Unit tests of the stream packing glue against the layouts in docs/engine.md (no simulator)."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from common.streams import (
    CoreShape,
    act_frame,
    describe_mismatches,
    expected_tile,
    out_lanes,
    param_block,
    split_lanes,
    weight_frame,
)

CORE = CoreShape(par_in=4, par_out=2, a_bits=8, w_bits=4, h_max=8, w_max=8, cin_max=16, cout_max=8)


def test_act_frame_is_pixel_major_channel_minor():
    act = np.arange(8 * 3 * 5, dtype=np.int64).reshape(8, 3, 5) % 256
    frame = act_frame(act.astype(np.uint8))
    cg_beats = 8 // CORE.par_in
    for y, x, cg, i in [(0, 0, 0, 0), (1, 4, 1, 3), (2, 2, 0, 2)]:
        beat = (y * 5 + x) * cg_beats + cg
        assert frame[beat * CORE.par_in + i] == act[cg * CORE.par_in + i, y, x]


def test_param_block_fields_sit_where_the_docs_put_them():
    bias = np.array([-5, 123456], dtype=np.int32)
    shift = np.array([7, 31], dtype=np.uint8)
    levels = np.arange(16, dtype=np.uint8) * 3
    block = param_block(bias, shift, levels)
    po = len(bias)
    for o in range(po):
        assert (block >> (o * 32)) & 0xFFFF_FFFF == int(bias[o]) & 0xFFFF_FFFF
        assert (block >> (po * 32 + o * 8)) & 0xFF == shift[o]
    for j in range(16):
        assert (block >> (po * 40 + j * 8)) & 0xFF == levels[j]
    assert block < 1 << CORE.param_bits


def fake_set(rng, cin: int, cout: int, pruning: str = "dense"):
    """The arrays weight_frame reads, for a random layer of `pruning` (pymodel's names)."""
    vs = SimpleNamespace(name=f"fake-{pruning}",
                         wcode=rng.integers(0, 16, (cout, cin, 3, 3)).astype(np.uint8),
                         bias=rng.integers(-1000, 1000, cout).astype(np.int32),
                         shift=rng.integers(0, 20, cout).astype(np.uint8),
                         level_desc=rng.integers(0, 256, 16).astype(np.uint8))
    if pruning == "krp":
        vs.row_idx = rng.integers(0, 3, (cout, cin)).astype(np.uint8)
    if pruning == "ikr":
        library = np.zeros((8, 9), bool)
        for p in range(8):
            library[p, rng.choice(9, 4, replace=False)] = True
        vs.patterns = library.reshape(8, 3, 3)
        vs.pattern_id = rng.integers(0, 8, (cout, cin)).astype(np.uint8)
    return vs


def test_weight_frame_param_beats_then_weight_lanes():
    rng = np.random.default_rng(0)
    cin, cout = 8, 4
    vs = fake_set(rng, cin, cout)
    tile = 1
    frame = weight_frame(CORE, vs, tile)
    lanes = CORE.wgt_lanes
    assert len(frame) == (CORE.param_beats + 9 * cin // CORE.par_in) * lanes
    params = frame[:CORE.param_beats * lanes]
    rebuilt = sum(v << (k * CORE.w_bits) for k, v in enumerate(params))
    chans = slice(tile * CORE.par_out, (tile + 1) * CORE.par_out)
    assert rebuilt == param_block(vs.bias[chans], vs.shift[chans], vs.level_desc)
    weights = frame[CORE.param_beats * lanes:]
    for cg, ky, kx, o, i in [(0, 0, 0, 0, 0), (1, 2, 1, 1, 3), (0, 1, 2, 1, 2)]:
        beat = cg * 9 + ky * 3 + kx
        assert weights[beat * lanes + o * CORE.par_in + i] == \
            vs.wcode[tile * CORE.par_out + o, cg * CORE.par_in + i, ky, kx]


@pytest.mark.parametrize(("fmt", "w_bits"), [("krp", 4), ("krp", 6), ("ikr", 4), ("ikr", 8)])
def test_pruned_weight_frame_index_beat_then_kept_taps(fmt: str, w_bits: int):
    """KRP / IKR: per channel group one index beat (lane l at [l*IDX_BITS +: IDX_BITS]), then TAPS
    beats of the codes at the kept positions (KRP: the row's columns; IKR: ascending ky*3+kx)."""
    rng = np.random.default_rng(1)
    cin, cout = 8, 4
    core = replace(CORE, w_bits=w_bits, fmt=fmt)
    vs = fake_set(rng, cin, cout, fmt)
    tile = 1
    frame = weight_frame(core, vs, tile)
    lanes, taps = core.wgt_lanes, core.taps
    cg_n = cin // core.par_in
    assert len(frame) == (core.param_beats + (1 + taps) * cg_n) * lanes
    params = sum(v << (k * w_bits) for k, v in enumerate(frame[:core.param_beats * lanes]))
    if fmt == "ikr":
        masks = params >> (core.par_out * 40 + 128)
        for p in range(8):
            assert (masks >> (9 * p)) & 0x1FF == int((vs.patterns[p].reshape(9) << np.arange(9)).sum())
    body = frame[core.param_beats * lanes:]
    for cg in range(cg_n):
        group = body[cg * (1 + taps) * lanes:(cg + 1) * (1 + taps) * lanes]
        index = sum(v << (k * w_bits) for k, v in enumerate(group[:lanes]))
        for o in range(core.par_out):
            for i in range(core.par_in):
                co, ci, lane = tile * core.par_out + o, cg * core.par_in + i, o * core.par_in + i
                idx = (index >> (lane * core.idx_bits)) & ((1 << core.idx_bits) - 1)
                if fmt == "krp":
                    assert idx == vs.row_idx[co, ci]
                    kept = [idx * 3 + t for t in range(3)]
                else:
                    assert idx == vs.pattern_id[co, ci]
                    kept = list(np.flatnonzero(vs.patterns[idx].reshape(9)))
                codes = vs.wcode[co, ci].reshape(9)
                assert [group[(1 + t) * lanes + lane] for t in range(taps)] == [codes[p] for p in kept]


def test_split_lanes_round_trips():
    value = 0x1234_5678_9ABC_DEF0_0FED
    lanes = split_lanes(value, 20, 4)
    assert sum(v << (4 * k) for k, v in enumerate(lanes)) == value


def test_out_lanes_sign_extension_and_expected_layout():
    acc = np.array([[[-1, 2], [3, -(1 << 31)]], [[5, 6], [7, (1 << 31) - 1]]], dtype=np.int64)
    want = expected_tile(acc, CORE, 0)
    raw = [int(v) & 0xFFFF_FFFF for v in want.reshape(-1)]
    np.testing.assert_array_equal(out_lanes(raw, CORE.par_out, signed=True), want)
    assert want[3].tolist() == [-(1 << 31), (1 << 31) - 1]  # pixel (1, 1), lanes = channels 0, 1


def test_mismatch_report_names_tile_pixel_lane():
    want = np.zeros((6, 2), dtype=np.int64)
    got = want.copy()
    got[4, 1] = 9
    [line] = describe_mismatches(got, want, width=3, tile=2, par_out=2)
    assert "tile 2 pixel (y=1, x=1) lane 1 (channel 5): expected 0, got 9" in line
    with pytest.raises(ValueError):
        out_lanes([1, 2, 3], 2, signed=False)
