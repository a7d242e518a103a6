"""`refuge replay-calls FILE`: record PBX events kept while Refuge was unreachable.

FILE holds JSON lines (see services.calls_replay for the three formats; ``-`` reads standard
input). Events already recorded are counted as duplicates, so a file can be replayed again
safely. The file holds callers' numbers: keep it as secret as the database, and delete it
after the replay.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from refuge.hotline.services import calls_replay


class Command(BaseCommand):
    help = "Replay recorded PBX events (JSON lines) with the webhooks' idempotence."

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON lines file, or - for standard input")

    def handle(self, *args, file: str, **options):
        if file == "-":
            report = calls_replay(lines=sys.stdin)
        else:
            path = Path(file)
            if not path.is_file():
                raise CommandError(f"{file} is not a readable file.")
            with path.open(encoding="utf-8") as lines:
                report = calls_replay(lines=lines)
        self.stdout.write(
            f"{report.total} events: {report.recorded} recorded, "
            f"{report.duplicate} already recorded, {len(report.rejected)} refused."
        )
        for number, code in report.rejected[:50]:
            self.stdout.write(f"  line {number}: {code}")
        if len(report.rejected) > 50:
            self.stdout.write(f"  … and {len(report.rejected) - 50} more")
        if report.rejected:
            raise CommandError("Some events were refused (see above); the others were recorded.")
