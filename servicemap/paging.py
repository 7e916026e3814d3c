"""Paging, written once for every list the API serves: by page number (an offset) or after a
cursor (a keyset condition, as fast deep in a list as on its first page), with a total that
reads at most `count_exact_max` rows however long the list."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flask import current_app
from marshmallow import ValidationError, fields
from sqlalchemy import Select, func, literal, select, tuple_

from . import store
from .extensions import db

CURSOR_MESSAGE = ("Not a cursor this list gave; send `next_cursor` (or the Link header's "
                  "rel=\"next\") as it was given. 游标无效，请原样使用 next_cursor。")


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, how many rows the list holds (an estimate above
    count_exact_max, flagged), and the cursor of the page after it (None on the last)."""

    rows: list
    total: int
    total_estimated: bool = False
    next_cursor: str | None = None


def paginate(query: Select, page: int, per_page: int, *order_by) -> tuple[list, int]:
    """One page (1-based) of the query's rows in the order given, and how many rows match."""
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(*order_by).offset((page - 1) * per_page)
                              .limit(per_page)).all()
    return list(rows), total


def keyed_page(query: Select, keys: Sequence, per_page: int, *, page: int = 1,
               after: Sequence | None = None, counted_by, scan: Select | None = None) -> Page:
    """The page-th page of the query's rows in the order of `keys` (model attributes that are
    unique together, with an index in that order), or the page after the row `after` names;
    `counted_by` is an integer key that count_rows samples (the table's primary key).

    A page by number on which the list ends says its total itself, exactly.

    `scan`: the same rows selected without a text index's condition (a `q=` search), for
    text that many rows hold. When the first WINDOW_ROWS rows by `counted_by` show such text
    (window_estimate), the total is that estimate, and the page reads `scan` in the order of
    `keys` where the store says walking that index beats sorting every match (SQLite: the
    text index hands over its candidates unordered), within a bounded amount of work, else
    `query` as always."""
    estimate = rows = None
    walk = store.page_walker(db.session) if scan is not None else None
    if walk is not None:
        estimate = window_estimate(scan, counted_by)
        if estimate is not None:
            rows = walk(lambda: _page_rows(scan, keys, per_page, page, after))
    if rows is None:
        rows = _page_rows(query, keys, per_page, page, after)
    following = len(rows) > per_page
    rows = rows[:per_page]
    if after is None and not following and (rows or page == 1):
        total, estimated = (page - 1) * per_page + len(rows), False  # the list ends here
    else:
        if scan is not None and walk is None:
            estimate = window_estimate(scan, counted_by)
        total, estimated = ((estimate, True) if estimate is not None
                            else count_rows(query, counted_by))
    cursor = encode_cursor([getattr(rows[-1], key.key) for key in keys]) if following else None
    return Page(rows, total, estimated, cursor)


def _page_rows(query: Select, keys: Sequence, per_page: int, page: int,
               after: Sequence | None) -> list:
    """The page's rows and one more, which says whether another page follows."""
    ordered = query.order_by(*keys)
    if after is not None:
        bound = tuple_(*[literal(value, key.type) for key, value in zip(keys, after, strict=True)])
        ordered = ordered.where(tuple_(*keys) > bound)
    else:
        ordered = ordered.offset((page - 1) * per_page)
    return list(db.session.scalars(ordered.limit(per_page + 1)))


# How many rows, first by key, window_estimate reads to judge whether text is common, and
# past how many times count_exact_max its estimate is the total.
WINDOW_ROWS = 1000
COMMON = 1.5


def common_rows() -> int:
    """How many matches make a list's text common (window_estimate gives its total)."""
    return math.ceil(COMMON * current_app.config["SERVICEMAP"].count_exact_max)


def window_estimate(query: Select, key) -> int | None:
    """How many rows the query matches, estimated from the first WINDOW_ROWS rows by `key`,
    when that is at least common_rows(); else None (count_rows counts).

    For a text search whose text many rows hold, count_rows's sample of count_exact_max + 1
    matches cost reading every match first (a text index hands them over unordered): 80-300
    ms at 1M. Reading a fixed window costs the same whatever the text. It shares count_rows's
    assumption: what matches is spread evenly through the registry's history (insertion
    order); and well past the exact limit, an estimate is what the total says anyway."""
    window = select(key).order_by(key).limit(WINDOW_ROWS).subquery()
    reached, low, high = db.session.execute(select(
        select(func.max(window.c[0])).scalar_subquery(), select(func.min(key)).scalar_subquery(),
        select(func.max(key)).scalar_subquery())).one()
    if reached is None:
        return None
    # A range of the key (its index read in order), not IN a list of keys (a lookup each).
    inside = query.with_only_columns(key).where(key <= reached).subquery()
    found, = db.session.execute(select(func.count()).select_from(inside)).one()
    if not found:
        return None
    estimate = round(found * (high - low + 1) / (reached - low + 1))
    return estimate if estimate >= common_rows() else None


def count_rows(query: Select, key) -> tuple[int, bool]:
    """How many rows the query matches, and whether that is an estimate.

    Exact up to count_exact_max: only that many rows are read, in `key` order. Past it, the
    matches among the first rows by `key` are taken as a sample of the key's whole range:
    (count_exact_max + 1) matches up to key value k of [low, high] estimate
    (count_exact_max + 1) × (high − low + 1) / (k − low + 1). Keys are given in insertion
    order, so this holds where what matches is spread evenly through the registry's history.
    """
    most = current_app.config["SERVICEMAP"].count_exact_max
    sample = query.with_only_columns(key).order_by(key).limit(most + 1).subquery()
    found, last = db.session.execute(select(func.count(), func.max(sample.c[0]))).one()
    if found <= most:
        return found, False
    # Two subqueries: SQLite reads min() or max() from the index only when each is alone.
    low, high = db.session.execute(select(select(func.min(key)).scalar_subquery(),
                                          select(func.max(key)).scalar_subquery())).one()
    return max(found, round(found * (high - low + 1) / (last - low + 1))), True


def encode_cursor(values: Sequence) -> str:
    """An opaque cursor for a row's key values (URL-safe base64 of a JSON array of strings)."""
    text = json.dumps([str(value) for value in values], ensure_ascii=False,
                      separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


class Cursor(fields.String):
    """A cursor argument, loaded as its key values, each read by its type in `parts`
    (str, uuid.UUID …); anything else is 422 naming the argument."""

    def __init__(self, parts: Sequence[Callable[[str], object]], **kwargs):
        kwargs.setdefault("metadata", {}).setdefault(
            "description", "Where a page starts: `next_cursor` of the page before. Pages "
                           "after a cursor stay as fast deep in the list as at its start, "
                           "and rows added meanwhile neither repeat nor shift them.")
        super().__init__(validate=None, **kwargs)
        self.parts = tuple(parts)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            if len(text) > 1000:
                raise ValueError("too long for a cursor")
            raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
            values = json.loads(raw.decode())
            if (not isinstance(values, list)
                    or len(values) != len(self.parts)
                    or not all(isinstance(value, str) for value in values)):
                raise ValueError("not a cursor")
            return tuple(part(value) for part, value in zip(self.parts, values, strict=True))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise ValidationError(CURSOR_MESSAGE) from None


def page_of(items: list, page: int, per_page: int) -> list:
    """One page (1-based) of a list already in order."""
    start = (page - 1) * per_page
    return items[start:start + per_page]
