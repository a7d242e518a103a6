"""bench/run.py writes the benchmark table into docs/benchmarks.md and keeps the rest."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _run_module():
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module("run"), importlib.import_module("_report")
    finally:
        sys.path.remove(str(BENCH))


def test_the_table_replaces_only_its_own_block(tmp_path, monkeypatch, capsys):
    run, report = _run_module()
    report.result(target="T <= 2×", measured="1.5× | a pipe", met=True)
    parsed = report.parse(capsys.readouterr().out.strip())
    assert parsed == {"target": "T <= 2×", "measured": "1.5× | a pipe", "met": True, "note": ""}
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nIntro.\n\n## Ranking\nWrite-up.\n", encoding="utf-8")
    monkeypatch.setattr(run, "REPORT", doc)
    bad = {"target": "U", "measured": "3×", "met": False, "note": "by CPU only"}
    run.write(run.table([("a.py", parsed, 0), ("b.py", bad, 1)], (1.0, 2.0)))
    first = doc.read_text(encoding="utf-8")
    assert first.startswith("# Benchmarks\n\nIntro.\n\n<!-- bench:begin -->")
    assert first.endswith("<!-- bench:end -->\n\n## Ranking\nWrite-up.\n")
    assert "| T <= 2× | 1.5× \\| a pipe | met | `bench/a.py` |" in first
    assert "| U | 3× | **not met** (by CPU only); exit 1 | `bench/b.py` |" in first
    run.write(run.table([("a.py", parsed, 0)], (1.0, 2.0)))  # a second run replaces the block
    second = doc.read_text(encoding="utf-8")
    assert second.count("<!-- bench:begin -->") == 1 and "`bench/b.py`" not in second
    assert second.endswith("## Ranking\nWrite-up.\n")
