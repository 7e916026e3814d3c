"""Chongqing's 38 区县 (district-level divisions), read once from seeds/districts.csv."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .config import default_seeds_dir


@dataclass(frozen=True)
class District:
    code: str
    name: str
    name_en: str
    lat: float
    lon: float


@cache
def load_districts(seeds_dir: Path | None = None) -> dict[str, District]:
    """Districts by 6-digit code, in file order."""
    path = (seeds_dir or default_seeds_dir()) / "districts.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            row["code"]: District(
                row["code"], row["name"], row["name_en"], float(row["lat"]), float(row["lon"])
            )
            for row in csv.DictReader(handle)
        }


def find_district(text: str) -> District | None:
    """A district by code (500109), full name (北碚区) or short name (北碚); None if unknown."""
    text = text.strip()
    districts = load_districts()
    if text in districts:
        return districts[text]
    for district in districts.values():
        if text in (district.name, district.name_en) or (
            len(text) >= 2 and district.name.startswith(text)
        ):
            return district
    return None
