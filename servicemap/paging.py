"""Count-and-offset paging, written once for every list the API serves."""

from __future__ import annotations

from sqlalchemy import Select, func, select

from .extensions import db


def paginate(query: Select, page: int, per_page: int, *order_by) -> tuple[list, int]:
    """One page (1-based) of the query's rows in the order given, and how many rows match."""
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(*order_by).offset((page - 1) * per_page)
                              .limit(per_page)).all()
    return list(rows), total


def page_of(items: list, page: int, per_page: int) -> list:
    """One page (1-based) of a list already in order."""
    start = (page - 1) * per_page
    return items[start:start + per_page]
