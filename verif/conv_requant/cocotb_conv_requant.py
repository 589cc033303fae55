"""cocotb tests of one conv_requant build (configured by test_conv_requant.py)."""

from __future__ import annotations

import json
import os

import cocotb
import numpy as np
from common.coverage import collector

from conv_requant.tb import RequantTB

CONFIG = json.loads(os.environ.get("UNIT_TB_CONFIG", "{}"))
PARAMS = CONFIG.get("parameters", {})
NAME = CONFIG.get("name", "requant")
CONTRACT_SHIFTS = list(range(32))
BEYOND_SHIFTS = [32, 33, 40, 47, 48, 63, 64, 100, 200, 255]  # RTL refinement: the full 8-bit shift


async def run(dut, shifts, mode_pattern: str, seed: int):
    tb = RequantTB(dut, PARAMS["PAR_OUT"], PARAMS["ACC_BITS"], PARAMS["A_BITS"], seed)
    await tb.reset()
    vecs = tb.vectors(shifts)
    n = len(vecs)
    modes = {"requant": np.ones(n, int), "raw": np.zeros(n, int),
             "mixed": tb.rng.integers(0, 2, n)}[mode_pattern]
    valids = tb.rng.random(n) < 0.8
    lasts = tb.rng.random(n) < 0.2
    problems = await tb.run(vecs, modes, valids, lasts)
    assert not problems, "\n  ".join(problems)
    cov = collector()
    top = (1 << PARAMS["A_BITS"]) - 1
    for k in np.flatnonzero(valids & (modes == 1)):
        for acc, bias, sh in vecs[k]:
            s = int(acc) + int(bias)
            cov.hit("unit requant", f"{NAME} shift {sh}" if sh < 32 else f"{NAME} shift >31")
            r = max(s, 0)
            out = min(((r + (1 << (sh - 1))) >> sh) if sh else r, top)
            cov.hit("unit requant", f"{NAME} " + ("clamped at 0" if s < 0 else "saturated" if out == top
                                                 else "in range"))
    if (valids & (modes == 0)).any():
        cov.hit("unit requant", f"{NAME} raw mode")
    cov.save()


@cocotb.test()
async def test_contract_shifts(dut):
    """Every shift 0..31, sums around 0, each rounding boundary and saturation; MODE 1."""
    await run(dut, CONTRACT_SHIFTS, "requant", 1)


@cocotb.test()
async def test_beyond_31(dut):
    """docs/engine.md: shift is applied as its full 8-bit value with the same formula."""
    await run(dut, BEYOND_SHIFTS, "requant", 2)


@cocotb.test()
async def test_modes_mixed(dut):
    """MODE changing every beat (raw accumulators sign-extended / requantized), valid gaps."""
    await run(dut, CONTRACT_SHIFTS[::3], "mixed", 3)
