"""servicemap's own pages (docs/PAGES.md): server-rendered, Chinese first, elder-friendly.

The pages are thin: they load their query strings with the API's own schemas and call the same
functions the API's views call, so no rule is implemented twice. Each module's views register
themselves on the one blueprint when imported here.
"""

from . import admin, coverage, eligibility, facility, find
from .blueprint import blp

__all__ = ["admin", "blp", "coverage", "eligibility", "facility", "find"]
