"""Which HTTP methods write, named once for everything that asks."""

# Methods that change what is stored: they count against the write rate limit (limits.py) and
# their session begins as a writer (create_app's hook; SQLite: BEGIN IMMEDIATE).
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Writes that carry a body, which must be JSON (api.require_json); a DELETE has none.
BODY_METHODS = WRITE_METHODS - {"DELETE"}
