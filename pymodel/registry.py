"""The hardware core registry (spec/cores.hjson): product units, cores and their build settings.

This module is the registry's only reader. It validates the file against spec/cores.schema.json
and against pymodel's own facts (every core's scheme exists and its code kind suits the product
unit), then hands out `Core` objects. Verif, tests, scripts and the CLI import it; shell and Tcl
ask it through `python -m pymodel.registry` (the Tcl flows source the generated scripts/cores.tcl).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pymodel import contract

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "spec" / "cores.hjson"
SCHEMA = REPO / "spec" / "cores.schema.json"
TCL_OUT = REPO / "scripts" / "cores.tcl"
CORE_TEMPLATE = REPO / "spec" / "conv_engine.core.in"
CORE_OUT = REPO / "conv_engine.core"
RTL_DIR = REPO / "rtl"
TOPLEVEL = "conv_engine"  # the one RTL top of every core (ARITH x FORMAT parameters)
# conv_prod_unit parameters every unit-test case may set (besides its unit's own)
UNIT_CASE_PARAMETERS = ("W_BITS", "A_BITS", "PAR_IN", "PAR_OUT")


class RegistryError(ValueError):
    """spec/cores.hjson is malformed or disagrees with pymodel."""


@dataclass(frozen=True)
class Arithmetic:
    name: str
    id: int
    rtl: str
    hls_kernel: str
    description: str
    multiplier_free: bool
    kinds: tuple[str, ...]  # pymodel code kinds it computes with
    reads_levels: bool  # reads the level descriptors (level exponent checks)
    scheme_parameters: tuple[str, ...]
    unit_cases: tuple[dict, ...]  # its testbench builds (verif/common/unit_bins.py)
    unit_case_tag: str = ""  # str.format of a case's parameters: its name tag after kind + W_BITS
    parameters: dict = field(default_factory=dict)

    @property
    def kernel(self) -> str:
        """The HLS kernel's short name (conv_mult -> mult), as scripts/hls_csim.py and the Tcl use."""
        return self.hls_kernel.removeprefix("conv_")


@dataclass(frozen=True)
class Core:
    """One product unit with one weight code, built in each weight format of `formats`."""

    name: str
    arith: str
    scheme: str  # pymodel.schemes.SCHEMES name (int8, pot4, ...)
    kind: str  # its pymodel.codes kind (int, pot, apot, ios)
    w_bits: int
    exp1_bits: int
    exp2_bits: int
    formats: tuple[str, ...]
    layer_runs: tuple[str, ...]
    hls: tuple[str, ...]
    hls_layer: tuple[str, ...]
    hls_default: bool
    synth: bool
    synth_nodsp: bool
    bench: bool
    parameters: dict = field(default_factory=dict)
    # unit parameters the scheme's codebook fixes (codebook_parameters)
    codebook: dict = field(default_factory=dict)

    @property
    def toplevel(self) -> str:
        return TOPLEVEL

    @property
    def unit(self) -> Arithmetic:
        return arithmetics()[self.arith]

    @property
    def mult_pack(self) -> int:
        return int(self.parameters.get("MULT_PACK", 0))

    @property
    def plut_sym(self) -> int:
        """1 for a PLUT core built for sign-symmetric codebooks (conv_prod_plut SYM)."""
        return int(self.hdl_parameters().get("PLUT_SYM", 0))

    @property
    def level_exp_max(self) -> int | None:
        """A level-reading core's largest level exponent (its own, else its unit's); None otherwise."""
        return self.hdl_parameters().get("LEVEL_EXP_MAX") if self.unit.reads_levels else None

    @property
    def synth_name(self) -> str:
        """The name in synthesis reports and build directories (mult-int8 -> mult_int8)."""
        return self.name.replace("-", "_")

    @property
    def layer_sets(self) -> tuple[str, ...]:
        """The exporter's whole-layer vector sets of this core's code, one per weight format."""
        return tuple(f"{self.scheme}-{fmt}" for fmt in self.formats)

    def scheme_values(self) -> dict[str, int]:
        return {"W_BITS": self.w_bits, "EXP1_BITS": self.exp1_bits, "EXP2_BITS": self.exp2_bits}

    def hdl_parameters(self) -> dict[str, int]:
        """conv_engine parameters of the core (the weight format's come from `format_parameters`)."""
        unit = self.unit
        values = self.scheme_values()
        return ({"ARITH": unit.id} | {p: values[p] for p in unit.scheme_parameters}
                | unit.parameters | self.codebook | self.parameters | engine_parameters())

    def hls_defines(self) -> dict[str, int]:
        """The HLS kernel's code-format macros (CONV_W_BITS, ...)."""
        values = self.scheme_values()
        return {f"CONV_{p}": values[p] for p in self.unit.scheme_parameters}

    def max_abs_weight(self) -> int:
        """Largest |w| the built core must accumulate (sizes ACC_BITS, reported in INFO)."""
        from pymodel import codes

        if self.kind == "ios":  # the core bounds level exponents by LEVEL_EXP_MAX
            return max(codes.IOS_MANTISSAS) << self.hdl_parameters()["LEVEL_EXP_MAX"]
        return codes.max_abs_weight(self.kind, self.w_bits, self.exp1_bits, self.exp2_bits)

    def accepts(self, manifest: dict) -> bool:
        """Whether a vector set's codes (its manifest) are this core's code format."""
        if self.plut_sym and (manifest.get("quant_extra") or {}).get("scheme_name") != self.scheme:
            return False  # a symmetric bank computes only its own (sign-symmetric) codebooks
        return (manifest.get("scheme") == self.kind and int(manifest.get("w_bits", -1)) == self.w_bits
                and (self.kind not in ("pot", "apot")
                     or (int(manifest.get("exp1_bits", 0)), int(manifest.get("exp2_bits", 0)))
                     == (self.exp1_bits, self.exp2_bits)))


def _load_raw(path: Path) -> dict:
    import hjson
    import jsonschema

    try:
        data = hjson.loads(path.read_text())
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read ({exc.strerror})") from None
    except hjson.HjsonDecodeError as exc:
        raise RegistryError(f"{path}: not valid hjson ({exc})") from None
    data = json.loads(json.dumps(data))  # plain dicts (hjson returns OrderedDicts)
    try:
        jsonschema.validate(data, json.loads(SCHEMA.read_text()))
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise RegistryError(f"{path}: {where}: {exc.message}") from None
    return data


def _check(data: dict, path: Path) -> None:
    from pymodel.schemes import SCHEMES

    formats, units = contract.FORMATS, data["arithmetics"]
    ids = [v["id"] for v in units.values()]
    if len(set(ids)) != len(ids):
        raise RegistryError(f"{path}: two arithmetics share an id: {ids}")
    unknown = [f for f in data["format_parameters"] if f not in formats]
    if unknown:
        raise RegistryError(f"{path}: format_parameters: {unknown[0]!r} is not a weight format "
                            "of the contract")
    ikr = data["format_parameters"].get("ikr", {})
    if set(ikr) != {"IKR_K", "IKR_P"}:
        raise RegistryError(f"{path}: format_parameters: ikr needs IKR_K and IKR_P")
    for name, value in ikr.items():
        lo, hi = getattr(contract, f"{name}_MIN"), getattr(contract, f"{name}_MAX")
        if not lo <= value <= hi:
            raise RegistryError(f"{path}: format_parameters: ikr {name}={value} is outside the "
                                f"contract's {lo}..{hi}")
    for name, value in data.get("engine_parameters", {}).items():
        lo, hi = getattr(contract, f"{name}_MIN"), getattr(contract, f"{name}_MAX")
        if not lo <= value <= hi or (value and value & (value - 1)):
            raise RegistryError(f"{path}: engine_parameters: {name}={value} is not 0 or a power of two "
                                f"in the contract's {lo}..{hi}")
    seen = set()
    for core in data["cores"]:
        name = core["name"]
        if name in seen:
            raise RegistryError(f"{path}: core {name!r} is listed twice")
        seen.add(name)
        if core["arith"] not in units:
            raise RegistryError(f"{path}: core {name!r}: unknown arithmetic {core['arith']!r}")
        scheme = SCHEMES.get(core["scheme"])
        if scheme is None:
            raise RegistryError(f"{path}: core {name!r}: {core['scheme']!r} is not a pymodel scheme "
                                f"(pymodel.schemes.SCHEMES)")
        if scheme.kind not in units[core["arith"]]["kinds"]:
            raise RegistryError(f"{path}: core {name!r}: a {core['arith']} unit cannot compute "
                                f"{scheme.kind} codes ({core['scheme']})")
        fixed = codebook_parameters(scheme)
        untaken = sorted(set(fixed) - set(units[core["arith"]].get("parameters", {})))
        if untaken:
            raise RegistryError(f"{path}: core {name!r}: scheme {core['scheme']!r} needs {untaken[0]}, "
                                f"which a {core['arith']} unit does not take")
        restated = sorted(set(fixed) & set(core.get("parameters", {})))
        if restated:
            raise RegistryError(f"{path}: core {name!r}: {restated[0]} is fixed by scheme "
                                f"{core['scheme']!r} (pymodel.schemes), not a core parameter")
        for key in ("formats", "layer_runs", "hls", "hls_layer"):
            unknown = [f for f in core[key] if f not in formats]
            if unknown:
                raise RegistryError(f"{path}: core {name!r}: {key}: unknown weight format {unknown[0]!r}")
        for key, within in (("layer_runs", "formats"), ("hls_layer", "hls")):
            extra = [f for f in core[key] if f not in core[within]]
            if extra:
                raise RegistryError(f"{path}: core {name!r}: {key} {extra[0]!r} is not in its {within}")
    for arith, unit in units.items():
        _check_unit(arith, unit, f"{path}: arithmetics/{arith}")
        defaults = [c["name"] for c in data["cores"] if c["arith"] == arith and c.get("hls_default")]
        if len(defaults) != 1:
            raise RegistryError(f"{path}: arithmetic {arith!r} needs exactly one core with hls_default "
                                f"(has {len(defaults)})")


def _check_unit(arith: str, unit: dict, where: str) -> None:
    """A unit's code kinds, level flag, case tag and testbench cases (formats, widths, parameters)."""
    from string import Formatter

    from pymodel import codes

    for kind in unit["kinds"]:
        if kind not in codes.SCHEMES:
            raise RegistryError(f"{where}: kinds: {kind!r} is not a pymodel code kind {codes.SCHEMES}")
    own = set(unit["scheme_parameters"]) | set(unit.get("parameters", {}))
    if unit["reads_levels"] and "LEVEL_EXP_MAX" not in unit.get("parameters", {}):
        raise RegistryError(f"{where}: a unit that reads_levels needs parameters.LEVEL_EXP_MAX")
    try:
        fields = {f for _, f, _, _ in Formatter().parse(unit.get("unit_case_tag", "")) if f is not None}
    except ValueError as exc:
        raise RegistryError(f"{where}: unit_case_tag: {exc}") from None
    if fields - own:
        raise RegistryError(f"{where}: unit_case_tag: {sorted(fields - own)[0]!r} is not a parameter "
                            f"of the unit ({', '.join(sorted(own))})")
    seen = []
    for n, case in enumerate(unit["unit_cases"]):
        at = f"{where}/unit_cases/{n}"
        if case in seen:
            raise RegistryError(f"{at}: the same case is listed twice")
        seen.append(case)
        if case["kind"] not in unit["kinds"]:
            raise RegistryError(f"{at}: a {arith} unit cannot compute {case['kind']} codes")
        if case["format"] not in contract.FORMATS:
            raise RegistryError(f"{at}: unknown weight format {case['format']!r}")
        takes = own | set(UNIT_CASE_PARAMETERS) | ({"IKR_K"} if case["format"] == "ikr" else set())
        values = {k: v for k, v in case.items() if k not in ("kind", "format")}
        for name, value in values.items():
            if name not in takes:
                raise RegistryError(f"{at}: {name} is not a parameter of this {case['format']} {arith} case "
                                    f"({', '.join(sorted(takes))})")
            lo, hi = getattr(contract, f"{name}_MIN"), getattr(contract, f"{name}_MAX")
            if not lo <= value <= hi:
                raise RegistryError(f"{at}: {name}={value} is outside the contract's {lo}..{hi}")
            if name.startswith("PAR_") and value & (value - 1):
                raise RegistryError(f"{at}: {name}={value} is not a power of two")
        try:
            codes.check_format(case["kind"], values["W_BITS"], values.get("EXP1_BITS", 0),
                               values.get("EXP2_BITS", 0))
        except codes.CodeFormatError as exc:
            raise RegistryError(f"{at}: {exc}") from None


@cache
def load(path: Path = SPEC) -> dict:
    """The validated registry as plain data."""
    data = _load_raw(path)
    _check(data, path)
    return data


@cache
def arithmetics() -> dict[str, Arithmetic]:
    return {name: Arithmetic(name=name, id=u["id"], rtl=u["rtl"], hls_kernel=u["hls_kernel"],
                             description=u["description"], multiplier_free=u["multiplier_free"],
                             kinds=tuple(u["kinds"]), reads_levels=u["reads_levels"],
                             scheme_parameters=tuple(u["scheme_parameters"]),
                             unit_cases=tuple(u["unit_cases"]), unit_case_tag=u.get("unit_case_tag", ""),
                             parameters=dict(u.get("parameters", {})))
            for name, u in load()["arithmetics"].items()}


def engine_parameters() -> dict[str, int]:
    """conv_engine parameters every core is built with (`engine_parameters`: RQ_LANES)."""
    return dict(load().get("engine_parameters", {}))


def formats() -> dict[str, int]:
    """Weight format -> conv_engine FORMAT value (the contract's)."""
    return {name: f[0] for name, f in contract.FORMATS.items()}


def format_parameters(fmt: str) -> dict[str, int]:
    """conv_engine parameters of a weight format (FORMAT, and IKR_K / IKR_P for ikr)."""
    return {"FORMAT": formats()[fmt]} | dict(load()["format_parameters"].get(fmt, {}))


def codebook_parameters(scheme) -> dict[str, int]:
    """The unit parameters a scheme's codebook fixes: a sign-symmetric codebook needs the
    symmetric bank (PLUT_SYM), a bounded one a bank word of its largest exponent (LEVEL_EXP_MAX)."""
    out = {}
    if scheme.symmetric:
        out["PLUT_SYM"] = 1
    if scheme.level_exp_max is not None:
        out["LEVEL_EXP_MAX"] = scheme.level_exp_max
    return out


@cache
def cores() -> dict[str, Core]:
    """Every core by name, in registry order."""
    from pymodel.schemes import SCHEMES

    out = {}
    for c in load()["cores"]:
        s = SCHEMES[c["scheme"]]
        out[c["name"]] = Core(
            name=c["name"], arith=c["arith"], scheme=c["scheme"], kind=s.kind, w_bits=s.w_bits,
            exp1_bits=s.exp1_bits, exp2_bits=s.exp2_bits, formats=tuple(c["formats"]),
            layer_runs=tuple(c["layer_runs"]), hls=tuple(c["hls"]), hls_layer=tuple(c["hls_layer"]),
            hls_default=bool(c.get("hls_default", False)), synth=c["synth"],
            synth_nodsp=bool(c.get("synth_nodsp", False)), bench=c["bench"],
            parameters=dict(c.get("parameters", {})), codebook=codebook_parameters(s))
    return out


def hls_cores() -> dict[str, Core]:
    """Cores with an HLS kernel build, by scheme (the HLS kernels take one code per scheme)."""
    return {c.scheme: c for c in cores().values() if c.hls}


def hls_default(arith: str) -> Core:
    return next(c for c in cores().values() if c.arith == arith and c.hls_default)


def hardware_schemes() -> tuple[str, ...]:
    """The pymodel schemes some core implements, in registry order."""
    return tuple(dict.fromkeys(c.scheme for c in cores().values()))


def bench_cores() -> list[str]:
    return [n for n, c in cores().items() if c.bench]


def ikr_setting() -> tuple[int, int]:
    """(IKR_K, IKR_P) the IKR cores are built for."""
    p = load()["format_parameters"]["ikr"]
    return p["IKR_K"], p["IKR_P"]


# ----------------------------------------------------------------------------- generated Tcl

def _tcl_dict(pairs: dict[str, int]) -> str:
    return " ".join(f"{k} {v}" for k, v in pairs.items())


def tcl_text() -> str:
    """scripts/cores.tcl: the registry facts the Tcl flows need (Tcl 8.5 dicts)."""
    lines = [f"# Generated by `python -m pymodel.registry tcl` from {SPEC.relative_to(REPO)}: do not edit",
             "# (make registry; tests/test_registry.py fails when this file is stale).", "",
             "# weight format -> conv_engine FORMAT", f"set CORE_FORMATS {{{_tcl_dict(formats())}}}",
             "# product unit -> conv_engine ARITH, description, HLS kernel default scheme and its macros",
             "set CORE_ARITHS {"]
    for name, unit in arithmetics().items():
        core = hls_default(name)
        defines = " ".join(f"{k} {v}" for k, v in core.hls_defines().items())
        lines.append(f"    {name} {{id {unit.id} description {{{unit.description}}} scheme {core.scheme}"
                     f" defines {{{defines}}}}}")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- generated FuseSoC core

def rtl_files(rtl_dir: Path = RTL_DIR) -> list[str]:
    """Every RTL file, headers first, each group sorted: what conv_engine.core lists.

    The list is what rtl/ holds (CAPI=2 has no globs), not the units' `rtl` entries plus a list of
    the engine's files: that list would restate the directory, and a new engine file would need a
    hand edit besides its creation. With the glob, a new unit's RTL file is listed once it exists."""
    return [str(p.relative_to(rtl_dir.parent))
            for ext in ("vh", "v") for p in sorted(rtl_dir.glob(f"*.{ext}"))]


def core_text(rtl_dir: Path = RTL_DIR) -> str:
    """conv_engine.core: spec/conv_engine.core.in with the RTL file list and the product units filled
    in. FuseSoC needs `CAPI=2:` on the first line, so the generated-by lines come second."""
    from string import Template

    units = arithmetics().values()
    files = [f"      - {f}: {{is_include_file: true}}" if f.endswith(".vh") else f"      - {f}"
             for f in rtl_files(rtl_dir)]
    text = Template(CORE_TEMPLATE.read_text()).substitute(
        rtl_files="\n".join(files),
        arith_values=", ".join(f"{u.id} {u.name.upper()}" for u in units),
        unit_descriptions=" / ".join(u.description for u in units))
    first, rest = text.split("\n", 1)
    header = (f"# Generated by `python -m pymodel.registry core` from {CORE_TEMPLATE.relative_to(REPO)}: "
              "do not edit\n# (make registry; the rtl files are what rtl/ holds, ARITH's values "
              f"{SPEC.relative_to(REPO)}'s).")
    return f"{first}\n{header}\n{rest}"


def lint_configs() -> list[str]:
    """`name|-Gparameters` of every core x weight format, for scripts/lint.sh."""
    out = []
    for core in cores().values():
        for fmt in core.formats:
            params = core.hdl_parameters() | format_parameters(fmt)
            out.append(f"{core.name} {fmt}|" + " ".join(f"-G{k}={v}" for k, v in params.items()))
    return out


def _write_or_check(out: Path, text: str, check: bool) -> int:
    if check:
        if (out.read_text() if out.exists() else "") != text:
            print(f"registry: {out} is stale: run `make registry`", file=sys.stderr)
            return 1
        return 0
    out.write_text(text)
    print(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pymodel.registry", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    tcl = sub.add_parser("tcl", help="write scripts/cores.tcl (or --check that it is up to date)")
    tcl.add_argument("--out", type=Path, default=TCL_OUT)
    tcl.add_argument("--check", action="store_true", help="exit 1 if the file differs from the registry")
    core = sub.add_parser("core", help="write conv_engine.core (or --check that it is up to date)")
    core.add_argument("--out", type=Path, default=CORE_OUT)
    core.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    sub.add_parser("lint", help="print every core x format as 'name|-Gparameters' (scripts/lint.sh)")
    sub.add_parser("hls-kernels", help="print the HLS kernels (scripts/hls_vitis.sh)")
    sub.add_parser("list", help="print the cores, one per line, with their formats")
    check = sub.add_parser("check", help="validate a registry file (default spec/cores.hjson)")
    check.add_argument("file", type=Path, nargs="?", default=SPEC)
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            load(args.file.resolve())
            print(f"registry: {args.file} is valid")
        elif args.command in ("tcl", "core"):
            return _write_or_check(args.out, tcl_text() if args.command == "tcl" else core_text(), args.check)
        elif args.command == "lint":
            print("\n".join(lint_configs()))
        elif args.command == "hls-kernels":
            print(" ".join(u.kernel for u in arithmetics().values()))
        else:
            for c in cores().values():
                print(f"{c.name:16} {c.arith:6} {c.scheme:6} formats {','.join(c.formats)}")
    except RegistryError as exc:
        print(f"registry: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
