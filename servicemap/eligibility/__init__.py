"""The eligibility engine: which programmes a person qualifies for, on a date, and why.

Programmes are data (seeds/policies/*.yaml); this package loads and validates them, validates
the facts about a person, and evaluates every programme in three values (eligible, ineligible,
unknown), naming the facts that would settle an unknown. No Flask, no database.
"""

from .catalogue import Catalogue, load_catalogue, load_programme
from .dates import today_in_shanghai
from .errors import CatalogueError, FactError
from .facts import FACT_NAMES, Person, validate_person
from .programme import Programme

__all__ = [
    "FACT_NAMES", "Catalogue", "CatalogueError", "FactError", "Person", "Programme",
    "load_catalogue", "load_programme", "today_in_shanghai", "validate_person",
]
