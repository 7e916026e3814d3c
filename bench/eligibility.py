"""Benchmark of the eligibility engine: random persons, every programme, µs per person.

    .venv/bin/python bench/eligibility.py [--persons 10000] [--seed 20261124] [--as-of 2026-03-01]

Draws seeded random persons (exact birth dates from newborns to 105-year-olds, some with only an
integer age or no age at all; every other fact present half the time), validates each with
`validate_person` and evaluates the ten programmes of seeds/policies with `Catalogue.evaluate`,
timing the two separately per person. Target: evaluation mean under 1 ms per person.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import statistics
import time
from collections import Counter
from pathlib import Path

from servicemap.districts import load_districts
from servicemap.eligibility import load_catalogue, validate_person
from servicemap.eligibility.facts import BOOLEAN_FACTS, ENUM_FACTS

POLICIES = Path(__file__).resolve().parent.parent / "seeds" / "policies"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--as-of", type=datetime.date.fromisoformat,
                        default=datetime.date(2026, 3, 1))
    return parser.parse_args()


def random_person(rng: random.Random, as_of: datetime.date) -> dict:
    """A request's person: facts as JSON would carry them, some absent."""
    person = {}
    born = as_of - datetime.timedelta(days=rng.randint(0, 105 * 365))
    draw = rng.random()
    if draw < 0.8:
        person["birth_date"] = born.isoformat()
    elif draw < 0.9:
        person["age"] = (as_of - born).days // 366
    districts = list(load_districts())
    for name in ("hukou_district", "residence_district"):
        if rng.random() < 0.5:
            code = rng.choice(districts)
            person[name] = code if rng.random() < 0.5 else load_districts()[code].name
    for name, values in ENUM_FACTS.items():  # household_status, care_need, care_setting
        if rng.random() < 0.5:
            person[name] = rng.choice(values)
    for name in BOOLEAN_FACTS:
        if rng.random() < 0.5:
            person[name] = rng.random() < 0.3
    return person


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                    if line.startswith("model name")), cpu)
    except OSError:
        pass
    return (f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
            f"{datetime.date.today()}")


def summary(name: str, times_ns: list[int]) -> str:
    micro = sorted(t / 1000 for t in times_ns)
    p99 = micro[min(len(micro) - 1, int(len(micro) * 0.99))]
    return (f"| {name:28s} | {statistics.fmean(micro):8.1f} | {statistics.median(micro):8.1f} |"
            f" {p99:8.1f} |")


def main() -> None:
    args = parse_args()
    rng = random.Random(args.seed)
    catalogue = load_catalogue(POLICIES)
    persons = [random_person(rng, args.as_of) for _ in range(args.persons)]
    print(f"machine: {machine()}")
    print(f"{args.persons:,} persons, {len(catalogue.programmes)} programmes, "
          f"as_of {args.as_of}, seed {args.seed}")
    for raw in persons[:200]:  # warm caches and the interpreter
        catalogue.evaluate(validate_person(raw, args.as_of), args.as_of)

    validate_ns, evaluate_ns, statuses = [], [], Counter()
    for raw in persons:
        started = time.perf_counter_ns()
        person = validate_person(raw, args.as_of)
        validated = time.perf_counter_ns()
        results = catalogue.evaluate(person, args.as_of)
        evaluate_ns.append(time.perf_counter_ns() - validated)
        validate_ns.append(validated - started)
        statuses.update(result["status"] for result in results)

    print(f"\nµs per person (all {len(catalogue.programmes)} programmes)")
    print(f"| {'stage':28s} | {'mean':>8s} | {'median':>8s} | {'p99':>8s} |")
    print(f"|{'-' * 30}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    print(summary("validate_person", validate_ns))
    print(summary("Catalogue.evaluate", evaluate_ns))
    print(summary("both", [a + b for a, b in zip(validate_ns, evaluate_ns, strict=True)]))
    total = sum(statuses.values())
    print("\nresults: " + ", ".join(f"{status} {count / total:.1%}"
                                    for status, count in sorted(statuses.items())))


if __name__ == "__main__":
    main()
