"""The core registry (spec/cores.hjson, pymodel/registry.py): valid, in step with the RTL, the HLS
kernels, pymodel and its generated Tcl, and every malformed registry is one line with exit 2."""

from __future__ import annotations

import inspect
import re
import shutil
import subprocess
import sys
from pathlib import Path

import hjson
import pytest
import yaml

from pymodel import registry, schemes

REPO = Path(__file__).resolve().parent.parent


def test_generated_tcl_is_up_to_date():
    assert registry.TCL_OUT.read_text() == registry.tcl_text(), \
        "scripts/cores.tcl is stale: run `make registry` (python -m pymodel.registry tcl)"


def test_generated_core_is_up_to_date():
    assert registry.CORE_OUT.read_text() == registry.core_text(), \
        "conv_engine.core is stale: run `make registry` (python -m pymodel.registry core)"


def test_generated_core_lists_what_rtl_holds(tmp_path: Path):
    """A new unit's RTL file is listed once it exists (headers as include files, each group sorted),
    and the ARITH values are the registry's."""
    rtl = tmp_path / "rtl"
    shutil.copytree(registry.RTL_DIR, rtl)
    (rtl / "conv_prod_div.v").write_text("module conv_prod_div; endmodule\n")
    (rtl / "notes.txt").write_text("not RTL\n")
    core = yaml.safe_load(registry.core_text(rtl))
    files = core["filesets"]["rtl"]["files"]
    headers = [next(iter(f)) for f in files if isinstance(f, dict) and f[next(iter(f))]["is_include_file"]]
    sources = [f for f in files if isinstance(f, str)]
    assert headers == sorted(f"rtl/{p.name}" for p in rtl.glob("*.vh")) and headers
    assert sources == sorted(f"rtl/{p.name}" for p in rtl.glob("*.v"))
    assert "rtl/conv_prod_div.v" in sources and len(headers) + len(sources) == len(files)
    values = core["parameters"]["ARITH"]["description"]
    assert values == ", ".join(f"{u.id} {u.name.upper()}" for u in registry.arithmetics().values())


def test_generated_tcl_reads_back_as_the_registry(tmp_path: Path):
    tclsh = shutil.which("tclsh")
    if tclsh is None:
        pytest.skip("tclsh not installed (apt-get install tcl)")
    script = tmp_path / "dump.tcl"
    script.write_text(f"source {{{registry.TCL_OUT}}}\n"
                      "dict for {f id} $CORE_FORMATS { puts \"format $f $id\" }\n"
                      "dict for {a u} $CORE_ARITHS { puts \"arith $a [dict get $u id] [dict get $u scheme]"
                      " [dict get $u defines]\" }\n")
    proc = subprocess.run([tclsh, str(script)], capture_output=True, text=True, check=True)
    lines = proc.stdout.split("\n")
    want = [f"format {f} {i}" for f, i in registry.formats().items()]
    for name, unit in registry.arithmetics().items():
        core = registry.hls_default(name)
        defines = " ".join(f"{k} {v}" for k, v in core.hls_defines().items())
        want.append(f"arith {name} {unit.id} {core.scheme} {defines}")
    assert [x for x in lines if x] == want


def test_every_unit_has_its_rtl_dispatch_branch_and_hls_kernel():
    dispatch = (REPO / "rtl" / "conv_prod_unit.v").read_text()
    for unit in registry.arithmetics().values():
        assert (REPO / unit.rtl).is_file(), f"{unit.name}: {unit.rtl} missing"
        module = Path(unit.rtl).stem
        branch = rf"ARITH\s*==\s*{unit.id}\)\s*begin\s*:\s*g_{unit.name}\s+{module}\s*#"
        assert re.search(branch, dispatch), \
            f"conv_prod_unit.v: no branch g_{unit.name} instantiating {module} for ARITH == {unit.id}"
        kernel = unit.hls_kernel
        for path in (REPO / "hls" / f"{kernel}.cpp", REPO / "hls" / "tb" / f"tb_{kernel}.cpp"):
            assert path.is_file(), f"{unit.name}: HLS kernel file {path} missing"


def test_cores_agree_with_pymodel():
    defaults = inspect.signature(schemes.make_layer).parameters
    assert registry.ikr_setting() == (defaults["ikr_k"].default, defaults["n_patterns"].default)
    for core in registry.cores().values():
        spec = schemes.SCHEMES[core.scheme]
        assert (core.kind, core.w_bits, core.exp1_bits, core.exp2_bits) == \
            (spec.kind, spec.w_bits, spec.exp1_bits, spec.exp2_bits)
        assert core.hdl_parameters()["ARITH"] == core.unit.id
        assert core.max_abs_weight() > 0
    # every scheme a core names is exported by default, so its vector sets exist after `make vectors`
    assert set(registry.hardware_schemes()) <= set(schemes.EXPORT_SCHEMES)


def test_unit_cases_are_the_product_testbench_builds():
    """verif/conv_prod builds one ProdCase per registry unit case, each under its own test id."""
    sys.path.insert(0, str(REPO / "verif"))
    from common.unit_bins import PROD_CASES

    listed = [(arith, raw) for arith, unit in registry.arithmetics().items() for raw in unit.unit_cases]
    assert len(PROD_CASES) == len(listed) == len({c.name for c in PROD_CASES})
    for case, (arith, raw) in zip(PROD_CASES, listed, strict=True):
        assert (case.arith, case.scheme, case.fmt) == (arith, raw["kind"], raw["format"])
        params = case.hdl_parameters()
        assert params["ARITH"] == registry.arithmetics()[arith].id
        assert all(params[k] == v for k, v in raw.items() if k not in ("kind", "format")), (case.name, raw)


def test_lint_configs_cover_every_core_and_format():
    configs = registry.lint_configs()
    assert len(configs) == sum(len(c.formats) for c in registry.cores().values())
    for core in registry.cores().values():
        for fmt in core.formats:
            line = next(x for x in configs if x.startswith(f"{core.name} {fmt}|"))
            assert f"-GARITH={core.unit.id}" in line and f"-GFORMAT={registry.formats()[fmt]}" in line


def _mutated(tmp_path: Path, edit) -> Path:
    data = hjson.loads(registry.SPEC.read_text())
    edit(data)
    path = tmp_path / "cores.hjson"
    path.write_text(hjson.dumps(data))
    return path


def _first_core(data: dict) -> dict:
    return data["cores"][0]


def _core(data: dict, name: str) -> dict:
    return next(c for c in data["cores"] if c["name"] == name)


def _unit(data: dict, arith: str = "mult") -> dict:
    return data["arithmetics"][arith]


def _case(data: dict, arith: str = "mult", n: int = 0) -> dict:
    return _unit(data, arith)["unit_cases"][n]


BAD_REGISTRIES = [
    (lambda d: d.pop("format_parameters"), "'format_parameters' is a required property"),
    (lambda d: _first_core(d).pop("scheme"), "'scheme' is a required property"),
    (lambda d: _first_core(d).update(name="Mult_Int8"), "cores/0/name"),
    (lambda d: _first_core(d).update(extra=1), "cores/0: Additional properties"),
    (lambda d: _first_core(d).update(parameters={"MULT_PACK": -1}), "cores/0/parameters/MULT_PACK"),
    (lambda d: d["arithmetics"]["plut"].update(rtl="conv_prod_plut.sv"), "arithmetics/plut/rtl"),
    (lambda d: _first_core(d).update(scheme="int9"), "'int9' is not a pymodel scheme"),
    (lambda d: _first_core(d).update(arith="shift"), "a shift unit cannot compute int codes"),
    (lambda d: _first_core(d).update(arith="div"), "unknown arithmetic 'div'"),
    (lambda d: _first_core(d).update(formats=["dense", "sparse"]), "unknown weight format 'sparse'"),
    (lambda d: d["cores"][2].update(layer_runs=["krp"]), "layer_runs 'krp' is not in its formats"),
    (lambda d: d["cores"].append(dict(d["cores"][0])), "'mult-int8' is listed twice"),
    (lambda d: d["cores"][1].update(hls_default=True),
     "'mult' needs exactly one core with hls_default (has 2)"),
    (lambda d: d["arithmetics"]["shift"].update(id=0), "two arithmetics share an id"),
    (lambda d: d["format_parameters"].update(sparse={}), "'sparse' is not a weight format of the contract"),
    (lambda d: d["format_parameters"]["ikr"].update(IKR_K=10), "ikr IKR_K=10 is outside the contract's 1..9"),
    (lambda d: d["format_parameters"]["ikr"].pop("IKR_P"), "ikr needs IKR_K and IKR_P"),
    (lambda d: _unit(d).pop("unit_cases"), "'unit_cases' is a required property"),
    (lambda d: _unit(d).update(kinds=["int", "float"]), "kinds: 'float' is not a pymodel code kind"),
    (lambda d: _unit(d).update(reads_levels=True), "a unit that reads_levels needs parameters.LEVEL_EXP_MAX"),
    (lambda d: _unit(d, "shift").update(unit_case_tag="e{EXP3_BITS}"),
     "unit_case_tag: 'EXP3_BITS' is not a parameter of the unit"),
    (lambda d: _unit(d, "shift").update(unit_case_tag="e{EXP1_BITS"), "arithmetics/shift: unit_case_tag:"),
    (lambda d: _case(d).update(w_bits=8), "unit_cases/0: 'w_bits' does not match any of the regexes"),
    (lambda d: _case(d).update(EXP1_BITS=3), "EXP1_BITS is not a parameter of this dense mult case"),
    (lambda d: _case(d).update(IKR_K=3), "IKR_K is not a parameter of this dense mult case"),
    (lambda d: _case(d, "shift").update(kind="int"), "unit_cases/0: a shift unit cannot compute int codes"),
    (lambda d: _case(d).update(format="sparse"), "unit_cases/0: unknown weight format 'sparse'"),
    (lambda d: _case(d).update(A_BITS=9), "unit_cases/0: A_BITS=9 is outside the contract's 4..8"),
    (lambda d: _case(d, "plut", 2).update(LEVEL_EXP_MAX=16),
     "plut/unit_cases/2: LEVEL_EXP_MAX=16 is outside the contract's 0..15"),
    (lambda d: _case(d).update(PAR_OUT=6), "unit_cases/0: PAR_OUT=6 is not a power of two"),
    (lambda d: _case(d, "plut").update(W_BITS=5), "plut/unit_cases/0: ios codes index 16 levels"),
    (lambda d: _case(d, "shift").update(EXP1_BITS=4), "shift/unit_cases/0: "),
    (lambda d: _unit(d)["unit_cases"].append(dict(_case(d))), "unit_cases/3: the same case is listed twice"),
    (lambda d: _core(d, "plut-ios4s").update(parameters={"PLUT_SYM": 1}),
     "core 'plut-ios4s': PLUT_SYM is fixed by scheme 'ios4s' (pymodel.schemes), not a core parameter"),
    (lambda d: _unit(d, "plut")["parameters"].pop("PLUT_SYM"),
     "core 'plut-ios4s': scheme 'ios4s' needs PLUT_SYM, which a plut unit does not take"),
    (lambda d: d["engine_parameters"].update(RQ_LANES=3),
     "engine_parameters: RQ_LANES=3 is not 0 or a power of two in the contract's 0..256"),
    (lambda d: d["engine_parameters"].update(RQ_LANES=512),
     "engine_parameters: RQ_LANES=512 is not 0 or a power of two in the contract's 0..256"),
    (lambda d: d["engine_parameters"].update(RQ_LANES=-1), "engine_parameters/RQ_LANES: -1 is less than"),
    (lambda d: d["engine_parameters"].update(FIFO_DEPTH=4), "engine_parameters: Additional properties"),
]


@pytest.mark.parametrize(("edit", "message"), BAD_REGISTRIES, ids=[m for _, m in BAD_REGISTRIES])
def test_malformed_registry_is_one_line_and_exit_2(tmp_path: Path, capsys, edit, message: str):
    path = _mutated(tmp_path, edit)
    assert registry.main(["check", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    assert message in err and str(path) in err, err


def test_a_new_unit_is_a_registry_entry(tmp_path: Path, capsys):
    """A fourth product unit (its RTL file, cores and testbench cases) validates with no code
    change here: the unit facts the registry checks are all in spec/cores.hjson."""
    def add_unit(d: dict) -> None:
        d["arithmetics"]["div"] = dict(_unit(d, "shift"), id=3, description="divider",
                                       rtl="rtl/conv_prod_div.v", hls_kernel="conv_div",
                                       unit_case_tag="-d{EXP1_BITS}")
        d["cores"].append(dict(d["cores"][4], name="div-pot4", arith="div"))
    assert registry.main(["check", str(_mutated(tmp_path, add_unit))]) == 0, capsys.readouterr().err


def test_a_codebook_fixes_its_unit_parameters():
    """A core's scheme fixes what its codebook needs of the unit: ios4s (sign-symmetric, exponents
    bounded) builds the PLUT with PLUT_SYM = 1 and LEVEL_EXP_MAX = the bound; ios4 takes the unit's."""
    from pymodel import quant

    sym, free = registry.cores()["plut-ios4s"], registry.cores()["plut-ios4"]
    assert sym.hdl_parameters()["PLUT_SYM"] == 1 == sym.plut_sym
    assert sym.hdl_parameters()["LEVEL_EXP_MAX"] == quant.IOS_SYM_EXP_MAX == sym.level_exp_max
    assert sym.max_abs_weight() == 7 << quant.IOS_SYM_EXP_MAX
    unit_bound = registry.arithmetics()["plut"].parameters["LEVEL_EXP_MAX"]
    assert (free.plut_sym, free.level_exp_max) == (0, unit_bound)


def test_unreadable_registry_is_one_line_and_exit_2(tmp_path: Path):
    """As a user runs it (a process: exit code and stderr)."""
    broken = tmp_path / "cores.hjson"
    broken.write_text("{cores: [")
    for path, message in ((broken, "not valid hjson"), (tmp_path / "missing.hjson", "cannot read")):
        proc = subprocess.run([sys.executable, "-m", "pymodel.registry", "check", str(path)],
                              capture_output=True, text=True, cwd=REPO)
        assert proc.returncode == 2 and message in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr


@pytest.mark.parametrize(("command", "text", "edit"), [
    ("tcl", registry.tcl_text, ("CONV_W_BITS 8", "CONV_W_BITS 7")),
    ("core", registry.core_text, ("      - rtl/conv_prod_shift.v\n", "")),  # a unit's file not listed
])
def test_stale_generated_file_is_reported(tmp_path: Path, capsys, command: str, text, edit):
    fresh = text()
    assert edit[0] in fresh
    stale = tmp_path / "generated"
    stale.write_text(fresh.replace(*edit))
    assert registry.main([command, "--check", "--out", str(stale)]) == 1
    assert "is stale" in capsys.readouterr().err
    stale.write_text(fresh)
    assert registry.main([command, "--check", "--out", str(stale)]) == 0
