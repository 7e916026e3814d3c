"""Fixtures of the eligibility tests: the seeded catalogue, loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from servicemap.eligibility import load_catalogue

POLICIES = Path(__file__).resolve().parents[2] / "seeds" / "policies"


@pytest.fixture(scope="session")
def catalogue():
    """The ten programmes of seeds/policies."""
    return load_catalogue(POLICIES)
