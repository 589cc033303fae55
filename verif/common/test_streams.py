"""Unit tests of the stream packing glue against the layouts in docs/engine.md (no simulator)."""

from __future__ import annotations

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


def test_weight_frame_param_beats_then_weight_lanes():
    rng = np.random.default_rng(0)
    cin, cout = 8, 4
    wcode = rng.integers(0, 16, (cout, cin, 3, 3)).astype(np.uint8)
    bias = rng.integers(-1000, 1000, cout).astype(np.int32)
    shift = rng.integers(0, 20, cout).astype(np.uint8)
    levels = rng.integers(0, 256, 16).astype(np.uint8)
    tile = 1
    frame = weight_frame(CORE, wcode, bias, shift, levels, tile)
    lanes = CORE.wgt_lanes
    assert len(frame) == (CORE.param_beats + 9 * cin // CORE.par_in) * lanes
    params = frame[:CORE.param_beats * lanes]
    rebuilt = sum(v << (k * CORE.w_bits) for k, v in enumerate(params))
    chans = slice(tile * CORE.par_out, (tile + 1) * CORE.par_out)
    assert rebuilt == param_block(bias[chans], shift[chans], levels)
    weights = frame[CORE.param_beats * lanes:]
    for cg, ky, kx, o, i in [(0, 0, 0, 0, 0), (1, 2, 1, 1, 3), (0, 1, 2, 1, 2)]:
        beat = cg * 9 + ky * 3 + kx
        assert weights[beat * lanes + o * CORE.par_in + i] == \
            wcode[tile * CORE.par_out + o, cg * CORE.par_in + i, ky, kx]


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
