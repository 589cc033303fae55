"""Build Verilator models once per parameter set and run cocotb test modules against them.

Every parameter combination gets its own directory build/sim/<name> (the name is derived from
the parameters, never from an xdist worker id), guarded by a file lock so concurrent workers that
need the same model build it once. Runs get their own results file and working directory under
the build directory, so several seeds can run from one model at the same time.
"""

from __future__ import annotations

import hashlib
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path

from filelock import FileLock

from .sim_env import (
    MAKE_OVERRIDES,
    PUBLIC_PORTS_VLT,
    REPO_ROOT,
    RTL_DIR,
    SIM_BUILD_ROOT,
    VERIF_DIR,
    verilator_env,
)


def waves_requested() -> bool:
    return os.environ.get("WAVES", "0") not in ("", "0")


def _fast_verilator_class():
    from cocotb_tools.runner import Verilator

    class FastVerilator(Verilator):
        """cocotb's Verilator runner, minus the costs that matter for wide cores.

        * `--no-public-flat-rw` (appended by build()) undoes the runner's `--public-flat-rw`;
          public_ports.vlt keeps the top ports visible to cocotb.
        * Waves are FST (`--trace-fst`) instead of VCD: 256-lane VCDs are unusably large.
        * The make step gets OPT_FAST=-O3 and the PCH workaround as command-line overrides.
        """

        def _waves_file(self) -> str | None:
            return "dump.fst"

        def _build_command(self):
            verilate, make = super()._build_command()
            if self.waves:
                verilate = ["--trace-fst" if arg == "--trace" else arg for arg in verilate]
            return [verilate, list(make) + list(MAKE_OVERRIDES)]

    return FastVerilator


def code_coverage_requested() -> bool:
    """COVERAGE=1: Verilator line + toggle coverage; every run writes coverage.dat in its run dir
    (scripts/coverage_report.py merges them into lcov .info files and a per-module summary)."""
    return os.environ.get("COVERAGE", "0") not in ("", "0")


def build_dir_for(name: str) -> Path:
    suffix = "-fst" if waves_requested() else ""
    suffix += "-cov" if code_coverage_requested() else ""
    if RTL_DIR.resolve() != (REPO_ROOT / "rtl").resolve():  # scratch RTL copies never share a model
        suffix += "-rtl" + hashlib.sha1(str(RTL_DIR.resolve()).encode()).hexdigest()[:8]
    return SIM_BUILD_ROOT / (name + suffix)


def build_model(name: str, toplevel: str, sources: Sequence[Path], parameters: Mapping[str, int],
                defines: Mapping[str, object] | None = None, includes: Sequence[Path] = (),
                build_args: Sequence[str] = ()) -> Path:
    """Verilate + compile `toplevel` with `parameters` into build/sim/<name>; returns the dir."""
    os.environ.update(verilator_env())  # the runner copies os.environ into its subprocesses
    build_dir = build_dir_for(name)
    build_dir.parent.mkdir(parents=True, exist_ok=True)
    runner = _fast_verilator_class()()
    with FileLock(str(build_dir) + ".lock"):
        runner.build(
            sources=[*map(str, sources), str(PUBLIC_PORTS_VLT)],
            hdl_toplevel=toplevel,
            parameters=dict(parameters),
            defines=dict(defines or {}),
            includes=[str(RTL_DIR), *map(str, includes)],  # rtl/: conv_prod_info.vh
            build_args=["--no-public-flat-rw", *build_args]
            + (["--coverage-line", "--coverage-toggle"] if code_coverage_requested() else []),
            build_dir=build_dir,
            waves=waves_requested(),
            timescale=("1ns", "1ps"),
            log_file=build_dir / "build.log",
        )
    return build_dir


def failed_cases(results_xml: Path) -> tuple[int, list[str]]:
    """(number of testcases, names of the failed ones) in a cocotb xUnit results file."""
    root = ET.parse(results_xml).getroot()
    cases = list(root.iter("testcase"))
    failed = [c.get("name", "?") for c in cases
              if c.find("failure") is not None or c.find("error") is not None]
    return len(cases), failed


def _test_filter(testcase: str | Sequence[str]) -> str:
    """cocotb test-name regex for whole test functions, including their parametrized variants."""
    names = [testcase] if isinstance(testcase, str) else list(testcase)
    return r"\.(" + "|".join(re.escape(n) for n in names) + r")(\W.*)?$"


def run_cocotb(build_dir: Path, toplevel: str, test_module: str, run_name: str,
               testcase: str | Sequence[str] | None = None, env: Mapping[str, str] | None = None,
               plusargs: Sequence[str] = (), seed: int | None = None) -> Path:
    """Run cocotb `test_module` (a module path importable from verif/) on a built model.

    Raises AssertionError naming the failed cocotb tests when results.xml reports failures or
    the simulator dies; returns the run directory (results.xml, log, waves).
    """
    run_dir = build_dir / "runs" / run_name
    run_dir.mkdir(parents=True, exist_ok=True)
    results_xml = run_dir / "results.xml"
    results_xml.unlink(missing_ok=True)
    os.environ.update(verilator_env())
    # The runner builds the simulator's PYTHONPATH from sys.path: pymodel and verif/ must be on it.
    import importlib.util
    import sys
    if importlib.util.find_spec("pymodel") is None and str(REPO_ROOT) not in sys.path:
        sys.path.append(str(REPO_ROOT))
    if str(VERIF_DIR) not in sys.path:
        sys.path.insert(0, str(VERIF_DIR))
    from .coverage import COVERAGE_DIR, ENV_FILE
    coverage_file = COVERAGE_DIR / f"{build_dir.name}-{run_name}.json"  # one per build x run
    coverage_file.unlink(missing_ok=True)
    scratch_rtl = RTL_DIR.resolve() != (REPO_ROOT / "rtl").resolve()  # seeded faults: no bins
    runner = _fast_verilator_class()()
    runner.build_dir = build_dir
    runner.waves = waves_requested()
    sim_exit = None
    try:
        runner.test(
            test_module=test_module,
            hdl_toplevel=toplevel,
            hdl_toplevel_lang="verilog",
            test_filter=None if testcase is None else _test_filter(testcase),
            build_dir=build_dir,
            test_dir=run_dir,
            results_xml=str(results_xml),
            # COCOTB_USER_COVERAGE=0: cocotb would read our COVERAGE=1 as a request for Python coverage
            extra_env={"PYTHONWARNINGS": "ignore::DeprecationWarning",
                       ENV_FILE: "" if scratch_rtl else str(coverage_file),
                       "COCOTB_USER_COVERAGE": "0"} | dict(env or {}),
            plusargs=list(plusargs),
            seed=seed,
            waves=waves_requested(),
            log_file=run_dir / "sim.log",
        )
    except SystemExit as exc:  # the runner exits on failures; turn that into a test failure
        sim_exit = exc.code
    if not results_xml.exists():
        raise AssertionError(f"simulation produced no {results_xml} (exit {sim_exit}); see {run_dir}/sim.log")
    total, failed = failed_cases(results_xml)
    if total == 0:
        raise AssertionError(f"no cocotb test ran (filter {testcase!r}); see {run_dir}/sim.log")
    if failed or sim_exit not in (None, 0):
        raise AssertionError(
            f"{len(failed)} of {total} cocotb tests failed: {failed} (simulator exit {sim_exit}); "
            f"log {run_dir}/sim.log")
    return run_dir
