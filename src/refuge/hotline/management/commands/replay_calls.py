"""`refuge replay-calls FILE`: record PBX events kept while Refuge was unreachable.
`refuge replay-calls --quarantine`: record the signed events that could not be read when they
came (services.event_quarantine), now that the parser reads them.

FILE holds JSON lines (see services.calls_replay for the three formats; ``-`` reads standard
input). Events already recorded are counted as duplicates, so a file (or the quarantine) can
be replayed again safely. The file holds callers' numbers: keep it as secret as the database,
and delete it after the replay. The quarantine holds none.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from refuge.hotline.services import calls_replay, quarantine_replay


class Command(BaseCommand):
    help = "Replay recorded PBX events (JSON lines) with the webhooks' idempotence."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="JSON lines file, or - for standard input")
        parser.add_argument(
            "--quarantine",
            action="store_true",
            help="also replay the signed events kept because they could not be read",
        )

    def handle(self, *args, file: str | None, quarantine: bool, **options):
        if file is None and not quarantine:
            raise CommandError("Give a file of events, or --quarantine (or both).")
        refused = False
        if file is not None:
            refused |= self._file(file)
        if quarantine:
            report = quarantine_replay()
            self.stdout.write(
                f"quarantine: {report.total} events: {report.recorded} recorded, "
                f"{report.duplicate} already recorded, {len(report.rejected)} still unreadable."
            )
            for pk, code in report.rejected[:50]:
                self.stdout.write(f"  quarantined event {pk}: {code}")
            refused |= bool(report.rejected)
        if refused:
            raise CommandError("Some events were refused (see above); the others were recorded.")

    def _file(self, file: str) -> bool:
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
        return bool(report.rejected)
