"""Run every benchmark in bench/ (each prints its own ratios against a baseline measured in
the same run) and collect their output. Usage: `make bench`."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    scripts = sorted(
        p for p in HERE.glob("*.py") if p.name not in {"run.py"} and not p.name.startswith("_")
    )
    failed = 0
    for script in scripts:
        print(f"== {script.name}", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"   ({time.perf_counter() - start:.1f} s, exit {code})", flush=True)
        failed += code != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
