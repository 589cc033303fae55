"""cocotb test of one product-unit build (configured through UNIT_TB_CONFIG by test_conv_prod.py)."""

from __future__ import annotations

import json
import os

import cocotb
import numpy as np
from common.coverage import collector
from common.unit_bins import SYM_LEVEL_ERRORS, ProdCase

from conv_prod.tb import ProdTB

CONFIG = json.loads(os.environ.get("UNIT_TB_CONFIG", "{}"))
CASE = ProdCase(**CONFIG["case"]) if CONFIG else None


@cocotb.test()
async def test_every_code(dut):
    """Every code in every lane with activations 0, 1, max and random at random candidate selects;
    PLUT: every claimed level descriptor, and `err` exactly for exponents above LEVEL_EXP_MAX (and,
    sign-symmetric, for a codebook that is not)."""
    tb = ProdTB(dut, CASE, seed=CONFIG.get("seed", 1))
    await tb.read_facts()
    n_codes = 1 << CASE.w_bits
    if CASE.reads_levels:
        levels, error = tb.level_blocks(hold=2 * n_codes)
    else:
        n = max(4 * n_codes, 256)
        levels, error = np.zeros((n, 16), np.int64), np.full(n, "")
    expect_err = error != ""
    n = len(levels)
    code = tb.code_sweep(n)
    cand = tb.activations((n, tb.ncand, CASE.par_in))
    sel = tb.rng.integers(0, tb.ncand, (n, CASE.par_out, CASE.par_in))
    problems = await tb.run(cand, sel, code, levels, expect_err)
    assert not problems, f"{CASE.name}:\n  " + "\n  ".join(problems)
    cov = collector()
    for c in np.unique(code):
        cov.hit("unit prod codes", f"{CASE.name} code {c}")
    chosen = np.take_along_axis(cand, sel, axis=1)  # [n, PAR_OUT, PAR_IN]: what each lane multiplied
    for name, value in (("0", 0), ("1", 1), ("max", tb.top)):
        cov.hit("unit prod activations", f"{CASE.name} act {name}", int((chosen == value).sum()))
    if CASE.reads_levels:
        for d in np.unique(levels[~expect_err]):
            cov.hit("unit plut levels", f"{CASE.name} level {d:#04x}")
        for block, kind in zip(levels[expect_err], error[expect_err], strict=True):
            for e in set((block & 15).tolist()) - set(range(CASE.level_exp_max + 1)):
                cov.hit("unit plut level errors", f"{CASE.name} level exponent {e} flagged")
            if kind in SYM_LEVEL_ERRORS:
                cov.hit("unit plut level errors", f"{CASE.name} {kind} flagged")
    cov.save()
