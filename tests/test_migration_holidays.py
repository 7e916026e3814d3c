"""Migration 0006: existing facilities get the holiday rule their kind and hours call for."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from servicemap.database import alembic_config, make_engine, upgrade

ALWAYS = [{"days": [1, 2, 3, 4, 5, 6, 7], "opens": "00:00", "closes": "24:00"}]
WEEKDAYS = [{"days": [1, 2, 3, 4, 5], "opens": "08:00", "closes": "17:30"}]


def test_upgrade_backfills_holiday_rule_by_kind_and_hours(database_url):
    engine = make_engine(database_url)
    try:
        command.downgrade(alembic_config(engine), "0004")
        rows = {"敬老院": ("care_home", WEEKDAYS), "幼儿园": ("kindergarten", WEEKDAYS),
                "托育": ("nursery", []), "食堂": ("meal_point", WEEKDAYS),
                "24小时站": ("elder_care_station", ALWAYS)}
        now = datetime(2026, 1, 1, tzinfo=UTC)
        with engine.begin() as connection:
            for name, (kind, hours) in rows.items():
                connection.execute(text(
                    "INSERT INTO facility (id, name, kind, inclusive, status, opening_hours, "
                    "created_at, updated_at, version) VALUES (:id, :name, :kind, false, "
                    "'active', :hours, :now, :now, 1)"),
                    {"id": uuid.uuid4().hex if engine.dialect.name == "sqlite" else uuid.uuid4(),
                     "name": name, "kind": kind, "hours": json.dumps(hours), "now": now})
        upgrade(engine)
        with engine.connect() as connection:
            got = dict(connection.execute(text("SELECT name, holiday_rule FROM facility")).all())
            closures = connection.execute(text("SELECT closures FROM facility")).scalars().all()
        assert got == {"敬老院": "open", "幼儿园": "closed", "托育": "closed", "食堂": "closed",
                       "24小时站": "open"}
        assert all((json.loads(c) if isinstance(c, str) else c) == [] for c in closures)
    finally:
        upgrade(engine)
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM facility"))
        engine.dispose()
