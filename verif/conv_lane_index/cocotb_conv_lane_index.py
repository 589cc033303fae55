"""cocotb tests of conv_lane_index against its contract (rtl/conv_lane_index.v): per lane, KRP's
candidate is its row index (3 is an error), IKR's is pos(p, tap) - tap with pos(p, j) the j-th
kept position of library mask p; `err` (registered with sel) flags a row 3, a pattern id >= IKR_P, a lane
whose pattern does not keep exactly IKR_K positions, and any mask keeping neither 0 nor IKR_K;
offending lanes use candidate 0; sel has latency 1."""

from __future__ import annotations

import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge
from common.coverage import collector
from common.unit_bins import LANE_INDEX_BINS

CONFIG = json.loads(os.environ.get("UNIT_TB_CONFIG", "{}"))
P = CONFIG.get("parameters", {})
NAME = CONFIG.get("name", "lane-index")


def expected(idx: list[int], masks: list[int], tap: int) -> tuple[list[int], bool, set[str]]:
    """(sel per lane, err, what this step exercises) of the contract."""
    fmt, k = P["FORMAT"], P.get("IKR_K", 4)
    sel, err, seen = [], False, set()
    if fmt == 1:
        for row in idx:
            bad = row == 3
            err |= bad
            sel.append(0 if bad else row)
            seen.add("row 3" if bad else f"row {row}")
        return sel, err, seen
    counts = [bin(m).count("1") for m in masks]
    if any(c not in (0, k) for c in counts):
        err = True
        seen.add("malformed mask")
    for p in idx:
        if p >= len(masks):
            err = True
            sel.append(0)
            seen.add("id >= IKR_P")
        elif counts[p] != k:
            err = True
            sel.append(0)
            seen.add("unused slot" if counts[p] == 0 else "lane on malformed mask")
        else:
            kept = [q for q in range(9) if masks[p] >> q & 1]
            sel.append(kept[tap] - tap)
            seen.add(f"offset {kept[tap] - tap}")
    return sel, err, seen


@cocotb.test()
async def test_every_index_and_error(dut):
    """Random libraries (usable, unused and malformed slots) and lane ids over every tap; each
    step's err and sel one cycle later against the contract."""
    Clock(dut.clk, 10, unit="ns").start()
    rng = random.Random(7)
    fmt, lanes = P["FORMAT"], P["PAR_IN"] * P["PAR_OUT"]
    idx_w, sel_w = P["IDX_W"], P["SEL_W"]
    k, n_pat = P.get("IKR_K", 4), P.get("IKR_P", 8)
    taps = 3 if fmt == 1 else k
    seen: set[str] = set()
    for step in range(600):
        masks = []
        if fmt == 2:
            for _ in range(n_pat):
                kind = rng.random()
                if kind < 0.75:
                    masks.append(sum(1 << q for q in rng.sample(range(9), k)))
                elif kind < 0.9:
                    masks.append(0)
                else:
                    wrong = rng.choice([c for c in range(1, 10) if c != k])
                    masks.append(sum(1 << q for q in rng.sample(range(9), wrong)))
            if step % 3 == 0:  # a third of the steps on a well-formed library
                masks = [m if bin(m).count("1") in (0, k) else sum(1 << q for q in range(k)) for m in masks]
            dut.table_bits.value = sum(m << (9 * p) for p, m in enumerate(masks))
        idx = [rng.randrange(1 << idx_w) for _ in range(lanes)]
        tap = rng.randrange(taps)
        dut.idx.value = sum(v << (lane * idx_w) for lane, v in enumerate(idx))
        dut.tap.value = tap
        await FallingEdge(dut.clk)  # the rising edge in between registered sel and err
        want_sel, want_err, what = expected(idx, masks, tap)
        assert int(dut.err.value) == want_err, f"step {step}: err {int(dut.err.value)}, expected {want_err}"
        got = dut.sel.value.to_unsigned()
        got_lanes = [(got >> (lane * sel_w)) & ((1 << sel_w) - 1) for lane in range(lanes)]
        assert got_lanes == want_sel, f"step {step}: sel {got_lanes}, expected {want_sel}"
        seen |= what
    cov = collector()
    bins = LANE_INDEX_BINS[fmt]
    missing = [b for b in bins if b not in seen]
    assert not missing, f"never exercised: {missing}"
    for b in bins:
        cov.hit("unit lane index", f"{NAME} {b}")
    cov.save()
