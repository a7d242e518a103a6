"""``refuge simulate SCENARIO.json [--json]``: the network simulation of SPEC C7.

Prints the SPEC output (``--json``) or a table for people. ``--what-if N`` ranks where N more
beds would cut turn-aways most. ``--live`` runs the network as recorded in the database instead
of a file (``--save`` writes that scenario out for editing). Figures are model results for the
scenario given, not measurements.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from refuge.placement.fit import Rules
from refuge.placement.sim_scenario import POLICIES, Scenario, ScenarioError, parse_scenario
from refuge.placement.simulation import SimulationResult, WhatIfResult, simulate, what_if


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _ci(ci: tuple[float, float]) -> str:
    return f"{100 * ci[0]:.1f}–{100 * ci[1]:.1f}"


class Command(BaseCommand):
    help = (
        "Simulate the shelter network over years under each placement policy (SPEC C7) and "
        "print turn-away rates with 95% confidence intervals; --what-if N ranks where N more "
        "beds help most."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "scenario", nargs="?", help="scenario JSON file (SPEC 'Simulation'); - for stdin"
        )
        parser.add_argument("--json", action="store_true", help="print the SPEC output JSON")
        parser.add_argument(
            "--what-if",
            type=int,
            metavar="N",
            dest="what_if",
            help="rank the regions (or facilities, --by) by how much N more beds there cut "
            "turn-aways",
        )
        parser.add_argument(
            "--by",
            choices=["region", "facility"],
            default="region",
            help="what-if: a new shelter of N beds per region, or N more beds per facility",
        )
        parser.add_argument(
            "--policy",
            choices=POLICIES,
            help="what-if: the policy to rank under (default: network if the scenario runs it)",
        )
        parser.add_argument(
            "--what-if-rules",
            metavar="JSON",
            help="what-if by region: house rules of the new shelter, e.g. '{\"boys_max_age\": 14}'",
        )
        parser.add_argument(
            "--live",
            action="store_true",
            help="simulate the network recorded in the database (demand from the last year's "
            "admissions) instead of a file",
        )
        parser.add_argument(
            "--save", metavar="PATH", help="with --live: also write the scenario to PATH"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        data = self._load(options)
        try:
            scenario = parse_scenario(data)
        except ScenarioError as e:
            raise CommandError("The scenario is not valid:\n  " + "\n  ".join(e.problems)) from e
        if options["what_if"] is not None:
            if options["what_if"] < 1:
                raise CommandError("--what-if N needs N ≥ 1 beds.")
            rules = self._rules(options["what_if_rules"])
            result = what_if(
                scenario,
                options["what_if"],
                by=options["by"],
                policy=options["policy"],
                rules=rules,
                progress=self._progress(options),
            )
            if options["json"]:
                self.stdout.write(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
            else:
                self._what_if_table(scenario, result)
            return
        outcome = simulate(scenario, progress=self._progress(options))
        if options["json"]:
            self.stdout.write(json.dumps(outcome.to_json(), ensure_ascii=False, indent=2))
        else:
            self._table(outcome)

    # -- input -------------------------------------------------------------------------------

    def _load(self, options: dict[str, Any]) -> Any:
        if options["live"]:
            if options["scenario"]:
                raise CommandError("Give either a scenario file or --live, not both.")
            from refuge.insights.simulation import scenario_from_network

            try:
                data = scenario_from_network()
            except (ValueError, ScenarioError) as e:
                raise CommandError(f"Cannot build a scenario from the live network: {e}") from e
            if options["save"]:
                Path(options["save"]).write_text(
                    json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
                )
            return data
        if options["save"]:
            raise CommandError("--save goes with --live.")
        path = options["scenario"]
        if not path:
            raise CommandError("Give a scenario file (or --live).")
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except OSError as e:
            raise CommandError(f"Cannot read {path}: {e.strerror or e}") from e
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise CommandError(f"{path} is not valid JSON: line {e.lineno}: {e.msg}") from e

    def _rules(self, raw: str | None) -> Rules | None:
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as e:
            raise CommandError(f"--what-if-rules is not valid JSON: {e.msg}") from e
        # Checked exactly as a facility's rules in a scenario file.
        probe = {
            "years": 1,
            "warmup_days": 0,
            "replications": 2,
            "seed": 0,
            "facilities": [{"id": "new", "region": "X", "beds": 1, "rules": value}],
            "arrivals": [{"region": "X", "per_day": 1, "household_size": {"1": 1}}],
            "stay_days": {"distribution": "fixed", "mean": 1},
        }
        try:
            return parse_scenario(probe).facilities[0].rules
        except ScenarioError as e:
            problems = [p.replace("facilities[0].rules", "--what-if-rules") for p in e.problems]
            raise CommandError("\n".join(problems)) from e

    def _progress(self, options: dict[str, Any]):
        if options["verbosity"] < 2:
            return None

        def report(done: int, total: int) -> None:
            self.stderr.write(f"replication {done}/{total}")

        return report

    # -- output for people -------------------------------------------------------------------

    def _describe(self, sc: Scenario) -> None:
        stay = sc.stay
        spread = f", cv {stay.cv:g}" if stay.cv is not None else ""
        self.stdout.write(
            f"{len(sc.facilities)} facilities, {sc.total_beds} beds, {len(sc.regions)} regions; "
            f"{sc.arrivals_per_day:.2f} households a day; stays {stay.distribution}, "
            f"mean {stay.mean:g} days{spread}."
        )
        self.stdout.write(
            f"{sc.years:g} years after a {sc.warmup_days:g}-day warm-up, "
            f"{sc.replications} replications, seed {sc.seed}. "
            "Model results for this scenario, not measured data."
        )

    def _table(self, outcome: SimulationResult) -> None:
        sc = outcome.scenario
        self._describe(sc)
        sizes = sorted({d for r in outcome.policies.values() for d in r.by_household_size})
        head = (
            f"{'policy':<16} {'turned away':>11} {'95% CI':>12} {'unnecess.':>9} "
            f"{'people':>7} {'occupancy':>9} {'out of reg.':>11}  "
            + " ".join(f"{'size ' + str(d):>7}" for d in sizes)
        )
        self.stdout.write("")
        self.stdout.write(head)
        self.stdout.write("-" * len(head))
        for name, r in outcome.policies.items():
            self.stdout.write(
                f"{name:<16} {_pct(r.turn_away_rate):>11} {_ci(r.ci95):>12} "
                f"{_pct(r.unnecessary_turn_away_rate):>9} {_pct(r.people_turn_away_rate):>7} "
                f"{_pct(r.occupancy):>9} {_pct(r.out_of_region_share):>11}  "
                + " ".join(f"{_pct(r.by_household_size.get(d)):>7}" for d in sizes)
            )
        self.stdout.write("")
        self.stdout.write(
            "turned away: share of households; people: share of women and children; "
            "unnecess.: turned away while a facility could have taken her; out of reg.: "
            "placements outside her region."
        )
        if outcome.erlang_b is not None:
            self.stdout.write(f"Erlang B of the pooled network: {_pct(outcome.erlang_b)}")

    def _what_if_table(self, sc: Scenario, result: WhatIfResult) -> None:
        self._describe(sc)
        where = "a new shelter of" if result.by == "region" else "more beds at"
        self.stdout.write(
            f"What if {where} {result.places} beds, under '{result.policy}': baseline "
            f"{_pct(result.baseline)} turned away (95% CI {_ci(result.baseline_ci95)})."
        )
        self.stdout.write("")
        head = (
            f"{result.by:<40} {'turned away':>11} {'reduction':>10} {'95% CI':>13} "
            f"{'households/yr':>13}"
        )
        self.stdout.write(head)
        self.stdout.write("-" * len(head))
        names = {f.id: f.name for f in sc.facilities}
        for o in result.options:
            label = o.target if result.by == "region" else (names.get(o.target) or o.target)
            self.stdout.write(
                f"{label[:40]:<40} {_pct(o.turn_away_rate):>11} "
                f"{100 * o.reduction:>9.2f}pp {_ci(o.reduction_ci95):>13} "
                f"{o.turn_aways_avoided_per_year:>13.1f}"
            )
