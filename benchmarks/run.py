"""Run the benchmarks: ``python benchmarks/run.py [AREA ...] [-- ARGS]``.

Each ``benchmarks/bench_<area>.py`` has ``main(argv=None)`` and prints a Markdown table
that compares shirtecg with the peer libraries doing the same work, in the same run
(ratios, not absolute times: machines are noisy). Without AREA, all areas run.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _areas():
    return sorted(p.stem[len("bench_"):] for p in HERE.glob("bench_*.py"))


def main(argv=None) -> int:
    """Run the named benchmark areas (all by default)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    areas = argv or _areas()
    unknown = [a for a in areas if a not in _areas()]
    if unknown:
        print(f"unknown benchmark area {unknown[0]!r}; available: {', '.join(_areas())}",
              file=sys.stderr)
        return 2
    for area in areas:
        spec = importlib.util.spec_from_file_location(f"bench_{area}", HERE / f"bench_{area}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"\n## {area}\n", flush=True)
        t0 = time.perf_counter()
        module.main(extra)
        print(f"\n({area}: {time.perf_counter() - t0:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
