"""Parameter sweeps of the unit testbenches (verif/conv_prod, conv_requant, ...) and their
functional-coverage bins (group -> bin names), declared once for the runners and the check."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from pymodel import contract as K
from pymodel import registry


@dataclass(frozen=True)
class ProdCase:
    """One product-unit build: arithmetic, code format, weight format, widths (the defaults are
    those of a case in spec/cores.hjson that does not set them)."""

    arith: str  # a registry arithmetic (mult / shift / plut)
    scheme: str  # int / pot / apot / ios
    w_bits: int
    fmt: str  # dense / krp / ikr
    a_bits: int = 8
    exp1_bits: int = 0
    exp2_bits: int = 0
    level_exp_max: int = 8
    plut_sym: int = 0  # PLUT: a sign-symmetric codebook (descriptor 8+m = -descriptor m)
    ikr_k: int = 4
    par_in: int = 4
    par_out: int = 2

    @property
    def unit(self) -> registry.Arithmetic:
        return registry.arithmetics()[self.arith]

    @property
    def reads_levels(self) -> bool:
        """Whether the unit reads the level descriptors (their sweep, exponent errors and bins)."""
        return self.unit.reads_levels

    @property
    def name(self) -> str:
        values = {f.name.upper(): getattr(self, f.name) for f in fields(self)}
        tag = f"{self.scheme}{self.w_bits}" + self.unit.unit_case_tag.format_map(values)
        fmt = self.fmt + (f"{self.ikr_k}" if self.fmt == "ikr" else "")
        sym = "-sym" if self.plut_sym else ""
        return f"{self.arith}-{tag}{sym}-{fmt}-a{self.a_bits}-p{self.par_in}x{self.par_out}"

    def hdl_parameters(self) -> dict[str, int]:
        return {"ARITH": registry.arithmetics()[self.arith].id,
                "FORMAT": registry.formats()[self.fmt], "IKR_K": self.ikr_k,
                "PAR_IN": self.par_in, "PAR_OUT": self.par_out, "A_BITS": self.a_bits, "W_BITS": self.w_bits,
                "EXP1_BITS": self.exp1_bits or 3, "EXP2_BITS": self.exp2_bits,
                "LEVEL_EXP_MAX": self.level_exp_max, "PLUT_SYM": self.plut_sym}

    def as_dict(self) -> dict:
        return asdict(self)

    def legal_levels(self) -> list[int]:
        """Every descriptor the PLUT unit claims: mantissa 0..7, exponent 0..LEVEL_EXP_MAX, both signs."""
        return [(neg << 7) | (mant << 4) | exp for neg in (0, 1) for mant in range(8)
                for exp in range(self.level_exp_max + 1)]


def _prod_cases() -> tuple[ProdCase, ...]:
    """Every unit's `unit_cases` (spec/cores.hjson), its own `parameters` as the case's defaults;
    a parameter X sets the field x (the registry checks the unit takes it)."""
    out = []
    for arith, unit in registry.arithmetics().items():
        for case in unit.unit_cases:
            values = unit.parameters | {k: v for k, v in case.items() if k not in ("kind", "format")}
            out.append(ProdCase(arith, case["kind"], fmt=case["format"],
                                **{k.lower(): v for k, v in values.items()}))
    return tuple(out)


PROD_CASES = _prod_cases()


# the descriptor blocks a sign-symmetric PLUT unit must refuse (it reads descriptors 0..7 only)
SYM_LEVEL_ERRORS = ("negative magnitude", "mirror differs")


def _prod_bins() -> dict[str, tuple[str, ...]]:
    codes, acts, levels, errors = [], [], [], []
    for case in PROD_CASES:
        codes += [f"{case.name} code {c}" for c in range(1 << case.w_bits)]
        acts += [f"{case.name} act {v}" for v in ("0", "1", "max")]
        if case.reads_levels:
            levels += [f"{case.name} level {d:#04x}" for d in case.legal_levels()]
            errors += [f"{case.name} level exponent {e} flagged" for e in range(case.level_exp_max + 1, 16)]
            if case.plut_sym:
                errors += [f"{case.name} {what} flagged" for what in SYM_LEVEL_ERRORS]
    return {"unit prod codes": tuple(codes), "unit prod activations": tuple(acts),
            "unit plut levels": tuple(levels), "unit plut level errors": tuple(errors)}


REQUANT_CASES = (
    {"PAR_OUT": 4, "ACC_BITS": 32, "A_BITS": 8},
    {"PAR_OUT": 2, "ACC_BITS": 19, "A_BITS": 4},
)


def requant_name(p: dict) -> str:
    return f"requant-acc{p['ACC_BITS']}-a{p['A_BITS']}-p{p['PAR_OUT']}"


def _requant_bins() -> dict[str, tuple[str, ...]]:
    bins = []
    for p in REQUANT_CASES:
        name = requant_name(p)
        bins += [f"{name} shift {s}" for s in range(32)] + [f"{name} shift >31"]
        bins += [f"{name} {what}" for what in ("clamped at 0", "saturated", "in range", "raw mode")]
    return {"unit requant": tuple(bins)}


AXIL_CASES = ({"PAR_IN": 16, "PAR_OUT": 16, "W_BITS": 8, "ACC_BITS": 27},)
AXIL_REGS = (*K.REGISTERS, "unmapped")  # the contract's registers (pymodel.contract)


def _axil_bins() -> dict[str, tuple[str, ...]]:
    bins = [f"read {r}" for r in AXIL_REGS] + [f"write {r}" for r in AXIL_REGS]
    bins += [f"strobes {m:#x}" for m in range(16)]
    bins += [f"STATUS bit {getattr(K, f'STATUS_{f}_LSB')}" for f in K.STATUS_FIELDS]
    bins += ["start pulse", "interleaved read/write"]
    return {"unit axil": tuple(bins)}


FIFO_CASES = ({"DATA_W": 33, "DEPTH": 2}, {"DATA_W": 65, "DEPTH": 8})


def fifo_name(p: dict) -> str:
    return f"fifo-d{p['DEPTH']}-w{p['DATA_W']}"


def _fifo_bins() -> dict[str, tuple[str, ...]]:
    return {"unit out fifo": tuple(f"{fifo_name(p)} {what}" for p in FIFO_CASES
                                   for what in ("full", "empty with ready", "wraps", "push and pop"))}


# W_MAX 7: the bank triple wraps twice and ends on a partial triple
LINE_BUFFER_CASES = ({"PAR_IN": 2, "A_BITS": 5, "W_MAX": 7, "CG_MAX": 3, "H_W": 4, "W_W": 4, "CG_W": 3,
                      "T_W": 3, "GROW_W": 8},)
LINE_BUFFER_BINS = ("bank wrap", "slot reuse", "window stall", "maps done", "relaunch mid-stream",
                    "frame misplaced tlast", "frame missing tlast", "reads checked")


def line_buffer_name(p: dict) -> str:
    return f"line-buffer-p{p['PAR_IN']}-a{p['A_BITS']}-w{p['W_MAX']}-cg{p['CG_MAX']}"


def _line_buffer_bins() -> dict[str, tuple[str, ...]]:
    return {"unit line buffer": tuple(f"{line_buffer_name(p)} {what}" for p in LINE_BUFFER_CASES
                                      for what in LINE_BUFFER_BINS)}


# KRP, and IKR with IKR_P = 5 < 2^IDX_BITS: pattern ids 5..7 are out of range
LANE_INDEX_CASES = ({"FORMAT": 1, "PAR_IN": 2, "PAR_OUT": 2, "IDX_W": 2, "SEL_W": 2},
                    {"FORMAT": 2, "IKR_K": 3, "IKR_P": 5, "PAR_IN": 2, "PAR_OUT": 2, "IDX_W": 3, "SEL_W": 3,
                     "TABLE_W": 45})
LANE_INDEX_BINS = {1: ("row 0", "row 1", "row 2", "row 3"),
                   2: ("id >= IKR_P", "unused slot", "malformed mask", "lane on malformed mask",
                       *(f"offset {o}" for o in range(7)))}


def lane_index_name(p: dict) -> str:
    fmt = {1: "krp", 2: f"ikr{p.get('IKR_K')}of{p.get('IKR_P')}"}[p["FORMAT"]]
    return f"lane-index-{fmt}-p{p['PAR_IN']}x{p['PAR_OUT']}"


def _lane_index_bins() -> dict[str, tuple[str, ...]]:
    return {"unit lane index": tuple(f"{lane_index_name(p)} {b}" for p in LANE_INDEX_CASES
                                     for b in LANE_INDEX_BINS[p["FORMAT"]])}


# a parameter block over two beats with bits below KEEP_LSB dropped; with and without index beats
WGT_BUFFER_CASES = ({"WGT_W": 12, "IDX_BEAT_W": 5, "TAPS": 3, "CG_MAX": 3, "NPB": 2, "PARAM_BITS": 20,
                     "KEEP_LSB": 4, "CG_W": 3, "T_W": 4},
                    {"WGT_W": 16, "IDX_BEAT_W": 0, "TAPS": 9, "CG_MAX": 2, "NPB": 1, "PARAM_BITS": 11,
                     "KEEP_LSB": 0, "CG_W": 2, "T_W": 4})
WGT_BUFFER_BINS = ("param beat", "index beat", "weight beat", "both buffers in use", "tiles done",
                   "relaunch mid-stream", "frame misplaced tlast", "frame missing tlast", "reads checked",
                   "index reads checked", "params checked", "tile start held by param_hold")


def wgt_buffer_name(p: dict) -> str:
    return f"wgt-buffer-w{p['WGT_W']}-i{p['IDX_BEAT_W']}-t{p['TAPS']}-npb{p['NPB']}-k{p['KEEP_LSB']}"


def _wgt_buffer_bins() -> dict[str, tuple[str, ...]]:
    return {"unit wgt buffer": tuple(f"{wgt_buffer_name(p)} {b}" for p in WGT_BUFFER_CASES
                                     for b in WGT_BUFFER_BINS if p["IDX_BEAT_W"] or "index" not in b)}


UNIT_BINS: dict[str, tuple[str, ...]] = (_prod_bins() | _requant_bins() | _axil_bins() | _fifo_bins()
                                         | _line_buffer_bins() | _lane_index_bins() | _wgt_buffer_bins())
