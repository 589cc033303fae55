"""Testbench of the output stage conv_requant: per lane s = acc + bias, ReLU, round-half-up shift,
saturate (MODE 1) or the raw accumulator sign-extended (MODE 0), latency 2, valid / tile_last
delayed with the data. Expected values from pymodel.reference.output_stage (shift 0..31); the
RTL refinement beyond 31 (the full 8-bit shift, same formula) from docs/engine.md's formula."""

from __future__ import annotations

import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

from pymodel import reference as R

CLOCK_NS = 10
LATENCY = 2  # docs: conv_requant latency 2


def pack(values, bits: int) -> int:
    out = 0
    for k, v in enumerate(values):
        out |= (int(v) & ((1 << bits) - 1)) << (k * bits)
    return out


def output_of(s: int, shift: int, a_bits: int) -> int:
    """docs/engine.md output stage of one sum (used for shifts the pymodel range 0..31 excludes)."""
    r = max(s, 0)
    if shift > 0:
        r = (r + (1 << (shift - 1))) >> shift
    return min(r, (1 << a_bits) - 1)


class RequantTB:
    def __init__(self, dut, par_out: int, acc_bits: int, a_bits: int, seed: int):
        self.dut, self.par_out, self.acc_bits, self.a_bits = dut, par_out, acc_bits, a_bits
        self.rng = np.random.default_rng(seed)
        Clock(dut.clk, CLOCK_NS, unit="ns").start()

    async def reset(self):
        dut = self.dut
        dut.rst.value = 1
        dut.in_valid.value = 0
        dut.in_tile_last.value = 0
        for _ in range(3):
            await FallingEdge(dut.clk)
        dut.rst.value = 0

    def sums_for(self, shift: int) -> list[int]:
        """Sums at the edges of shift `shift`: around 0, around each rounding boundary of the
        first outputs and of the saturation point, and the extremes."""
        top = (1 << self.a_bits) - 1
        half = (1 << (shift - 1)) if shift else 0
        points = [-2, -1, 0, 1, 2]
        for q in (0, 1, 2, top - 1, top, top + 1):
            edge = (q << shift) + half  # (q << shift) + half rounds up to q+1 (shift > 0)
            points += [edge - 1, edge, edge + 1]
        points += [(top << shift) - 1, top << shift, (top << shift) + 1]
        lo, hi = -(1 << (self.acc_bits - 1)) - (1 << 31), ((1 << (self.acc_bits - 1)) - 1) + (1 << 31) - 1
        points += [lo, lo + 1, hi, hi - 1]
        return [p for p in points if lo <= p <= hi]

    def split(self, s: int) -> tuple[int, int]:
        """(acc, bias) with acc + bias = s, acc in ACC_BITS, bias in int32, acc random where free."""
        a_lo, a_hi = -(1 << (self.acc_bits - 1)), (1 << (self.acc_bits - 1)) - 1
        lo, hi = max(a_lo, s - (1 << 31) + 1), min(a_hi, s + (1 << 31))
        acc = int(self.rng.integers(lo, hi + 1)) if self.rng.random() < 0.7 else min(max(s, lo), hi)
        return acc, s - acc

    def vectors(self, shifts: list[int]):
        """Lane tuples (acc, bias, shift): every sum of sums_for(shift) for every shift."""
        lanes = [(*self.split(s), sh) for sh in shifts for s in self.sums_for(sh)]
        self.rng.shuffle(lanes)
        lanes += [lanes[0]] * (-len(lanes) % self.par_out)
        return np.array(lanes, dtype=object).reshape(-1, self.par_out, 3)

    async def run(self, vecs, modes, valids, lasts) -> list[str]:
        dut, n = self.dut, len(vecs)
        got = []
        for k in range(n + LATENCY):
            await FallingEdge(dut.clk)
            if k >= LATENCY:
                got.append((int(dut.out_valid.value), int(dut.out_tile_last.value),
                            dut.out_data.value.to_unsigned()))
            if k < n:
                dut.acc.value = pack(vecs[k][:, 0], self.acc_bits)
                dut.bias.value = pack(vecs[k][:, 1], 32)
                dut.shift.value = pack(vecs[k][:, 2], 8)
                dut.mode_requant.value = int(modes[k])
                dut.in_valid.value = int(valids[k])
                dut.in_tile_last.value = int(lasts[k])
            else:
                dut.in_valid.value = 0
        problems = []
        for k in range(n):
            valid, last, data = got[k]
            if valid != valids[k] or last != (valids[k] and lasts[k]):
                problems.append(f"vector {k}: out_valid {valid} out_tile_last {last}, "
                                f"in_valid {valids[k]} in_tile_last {lasts[k]}")
            if not valids[k]:
                continue
            acc = np.array([int(a) for a in vecs[k][:, 0]], dtype=np.int64)
            bias = np.array([int(b) for b in vecs[k][:, 1]], dtype=np.int64)
            shift = np.array([int(s) for s in vecs[k][:, 2]], dtype=np.int64)
            if modes[k]:
                if shift.max() <= 31:
                    want = R.output_stage(acc[:, None, None], bias, shift, self.a_bits).reshape(-1)
                else:
                    want = [output_of(int(a + b), int(s), self.a_bits)
                            for a, b, s in zip(acc, bias, shift, strict=True)]
            else:
                want = acc & 0xFFFF_FFFF  # sign-extended to 32 bits
            lanes = [(data >> (32 * o)) & 0xFFFF_FFFF for o in range(self.par_out)]
            for o in range(self.par_out):
                if lanes[o] != int(want[o]):
                    problems.append(f"vector {k} lane {o} mode {modes[k]}: acc {acc[o]} bias {bias[o]} "
                                    f"shift {shift[o]}: got {lanes[o]}, expected {int(want[o])}")
            if len(problems) > 12:
                break
        return problems
