"""The one line each benchmark prints for the report that `make bench` writes.

A benchmark ends with ``result(...)``: the SPEC.md P target it measures, what it measured in
this run (ratios against the baseline of the same run), and whether the target is met.
bench/run.py reads these lines and rewrites the table at the top of docs/benchmarks.md.
"""

from __future__ import annotations

import json

PREFIX = "BENCH-RESULT "


def result(*, target: str, measured: str, met: bool, note: str = "") -> None:
    print(PREFIX + json.dumps({"target": target, "measured": measured, "met": met, "note": note},
                              ensure_ascii=False), flush=True)  # fmt: skip


def parse(line: str) -> dict | None:
    if not line.startswith(PREFIX):
        return None
    return json.loads(line[len(PREFIX) :])
