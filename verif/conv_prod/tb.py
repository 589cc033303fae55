"""Testbench of the product units (conv_prod_mult / _shift / _plut through prod_unit_wrap).

One vector per clock: candidate activations, per-lane selects, codes, level descriptors. The
expected sum of each output lane's leaves is sum_i a_sel * w(code) with w from pymodel.codes
(pymodel.reference.product_table for the ios levels); MULT leaves are also checked one by one.
Vectors are generated up front in numpy and the outputs unpacked after the run, so Python does
two signal writes and one read per clock.
"""

from __future__ import annotations

import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer
from common.unit_bins import ProdCase

from pymodel import codes as C
from pymodel import reference as R

CLOCK_NS = 10


def pack(values: np.ndarray, bits: int) -> int:
    """Lane k of the flattened `values` at [k*bits +: bits]."""
    out = 0
    for k, v in enumerate(np.asarray(values, dtype=np.int64).reshape(-1).tolist()):
        out |= (v & ((1 << bits) - 1)) << (k * bits)
    return out


def unpack_signed(value: int, n: int, bits: int) -> np.ndarray:
    mask, top = (1 << bits) - 1, 1 << (bits - 1)
    lanes = [(value >> (k * bits)) & mask for k in range(n)]
    return np.array([v - (1 << bits) if v & top else v for v in lanes], dtype=np.int64)


def level_values(desc: np.ndarray) -> np.ndarray:
    """Integer levels of 16 descriptors: pymodel's for the format's mantissas {0,1,3,5,7}; the
    unit also claims 2, 4, 6, for which docs/engine.md's formula (-1)^neg * mant * 2^exp is used."""
    desc = np.asarray(desc, dtype=np.int64)
    mant = (desc >> 4) & 7
    if np.isin(mant, C.IOS_MANTISSAS).all():
        return C.level_values(desc)
    return np.where(desc >> 7 & 1, -1, 1) * (mant << (desc & 15))


class ProdTB:
    def __init__(self, dut, case: ProdCase, seed: int):
        self.dut, self.case = dut, case
        self.rng = np.random.default_rng(seed)
        self.top = (1 << case.a_bits) - 1
        Clock(dut.clk, CLOCK_NS, unit="ns").start()

    async def read_facts(self):
        """The wrapper's constant ports (conv_prod_info.vh), valid once the model has evaluated."""
        dut = self.dut
        await FallingEdge(dut.clk)
        self.n_leaves = int(dut.info_n_leaves.value)
        self.leaf_w = int(dut.info_leaf_w.value)
        self.latency = int(dut.info_latency.value)
        self.ncand = int(dut.info_ncand.value)
        self.sel_w = max(1, (self.ncand - 1).bit_length())
        # the registry's copy of the fact (the Python side needs it before any simulation: coverage bins)
        reads_levels = bool(int(dut.info_reads_levels.value))
        assert reads_levels == self.case.reads_levels, \
            (f"{self.case.arith}: conv_prod_info.vh prod_reads_levels is {int(reads_levels)}, "
             f"spec/cores.hjson reads_levels is {self.case.reads_levels}")
        # the leaves port width is the facts' product: a wrong wrapper or unit shows up here
        assert len(dut.leaves) == self.case.par_out * self.n_leaves * self.leaf_w

    # ------------------------------------------------------------------ stimulus
    def activations(self, shape) -> np.ndarray:
        """~20% each of 0, 1 and the maximum, the rest uniform."""
        u = self.rng.random(shape)
        uniform = self.rng.integers(0, self.top + 1, shape)
        return np.select([u < 0.2, u < 0.4, u < 0.6], [0, 1, self.top], uniform).astype(np.int64)

    def code_sweep(self, n: int) -> np.ndarray:
        """[n, PAR_OUT, PAR_IN] codes: each lane runs through every code every 2^W vectors, in its
        own order, so every code meets every lane and many activations."""
        n_codes = 1 << self.case.w_bits
        lanes = self.case.par_out * self.case.par_in
        perms = np.stack([self.rng.permutation(n_codes) for _ in range(lanes)], axis=1)  # [codes, lane]
        return perms[np.arange(n) % n_codes].reshape(n, self.case.par_out, self.case.par_in)

    def level_blocks(self, hold: int) -> tuple[np.ndarray, np.ndarray]:
        """(levels [n, 16], error [n]: what makes vector n's levels illegal, "" if nothing): every
        claimed descriptor in some block of 16 held `hold` vectors, then one block per illegal exponent
        (LEVEL_EXP_MAX+1..15) on one level. A sign-symmetric unit gets symmetric blocks
        (descriptor 8+m = descriptor m with the sign bit) and, as errors, a block with a negative
        magnitude and one whose mirror differs."""
        legal = np.array(self.case.legal_levels())
        width = 8 if self.case.plut_sym else 16
        if self.case.plut_sym:
            legal = legal[legal < 0x80]  # the magnitudes; their mirrors carry the other sign
        order = self.rng.permutation(legal)
        pad = -len(order) % width
        order = np.concatenate([order, self.rng.choice(legal, pad)])
        blocks = [b for b in order.reshape(-1, width)]
        kinds = [""] * len(blocks)
        for exponent in range(self.case.level_exp_max + 1, 16):
            block = self.rng.choice(legal, width)
            j = int(self.rng.integers(width))
            block[j] = (block[j] & 0xF0) | exponent
            blocks.append(block)
            kinds.append(f"level exponent {exponent}")
        if self.case.plut_sym:
            blocks = [np.concatenate([b, b | 0x80]) for b in blocks]
            j = int(self.rng.integers(8))
            negative = blocks[0].copy()
            negative[j] |= 0x80
            differs = blocks[0].copy()
            differs[8 + j] = 0x80 | (((int(differs[j]) >> 4) % 7 + 1) << 4) | (int(differs[j]) & 15)
            blocks += [negative, differs]
            kinds += ["negative magnitude", "mirror differs"]
        return np.repeat(np.stack(blocks), hold, axis=0), np.repeat(np.array(kinds), hold)

    def weights(self, code: np.ndarray, levels: np.ndarray) -> np.ndarray:
        case = self.case
        if case.scheme == "ios":
            return level_values(levels)[code]
        return C.decode(code.astype(np.uint8), case.scheme, case.w_bits, case.exp1_bits, case.exp2_bits)

    def expected_products(self, act: np.ndarray, code: np.ndarray, levels: np.ndarray) -> np.ndarray:
        """a * w per lane [PAR_OUT, PAR_IN]; for ios through pymodel's product table."""
        if self.case.scheme == "ios":
            return R.product_table(level_values(levels), self.case.a_bits)[act, code]
        return act * self.weights(code, levels)

    # ------------------------------------------------------------------ run
    async def run(self, cand, sel, code, levels, expect_err) -> list[str]:
        """Apply vector n at falling edge n; its leaves are read LATENCY cycles later, `err`
        (combinational from the levels) 1 ns after the levels are applied."""
        dut, n = self.dut, len(cand)
        raw, errs = [], []
        for k in range(n + self.latency):
            await FallingEdge(dut.clk)
            if k >= self.latency:
                raw.append(dut.leaves.value.to_unsigned())
            if k < n:
                dut.cand.value = pack(cand[k], self.case.a_bits)
                dut.sel.value = pack(sel[k], self.sel_w)
                dut.codes.value = pack(code[k], self.case.w_bits)
                dut.levels.value = pack(levels[k], 8)
                await Timer(1, unit="ns")
                errs.append(int(dut.err.value))
        problems = []
        po, pi = self.case.par_out, self.case.par_in
        for k in range(n):
            act = cand[k][sel[k], np.arange(pi)[None, :]]  # [po, pi]: lane (o,i) takes cand[sel][i]
            if errs[k] != int(expect_err[k]):
                problems.append(f"vector {k}: err {errs[k]}, expected {int(expect_err[k])} "
                                f"(levels {[hex(v) for v in levels[k]]})")
            if expect_err[k]:
                continue  # products of an illegal level are not valid (docs/engine.md)
            want = self.expected_products(act, code[k], levels[k])
            leaves = unpack_signed(raw[k], po * self.n_leaves, self.leaf_w).reshape(po, self.n_leaves)
            got_sum, want_sum = leaves.sum(axis=1), want.sum(axis=1)
            for o in np.flatnonzero(got_sum != want_sum):
                problems.append(f"vector {k} output lane {o}: leaves sum to {got_sum[o]}, "
                                f"expected {want_sum[o]} "
                                f"(act {act[o].tolist()}, codes {code[k][o].tolist()})")
            if self.case.arith == "mult" and (leaves != want).any():
                problems.append(f"vector {k}: MULT leaves {leaves.tolist()}, products {want.tolist()}")
            if len(problems) > 12:
                break
        return problems
