"""Each facility's answer to a nearest search, rendered when it is written and kept beside it.

- A table facility_rendering (facility_id, version, rendering): the parts of the facility's
  JSON in a /nearest answer that no request changes (registry.rendered_text), of the version
  they were made from. Every write renders it in its own transaction (an ORM hook, and the bulk
  path); a facility's deletion takes it along. renderings.py reads it instead of reading the
  whole row and its services and rendering them on every answer that meets them. A table of
  its own rather than a column: the rendering triples a facility row's size, and the search
  reads facility rows.
- Facilities written before are rendered here. One left without a current rendering (or with
  one made by other code or another gazetteer) is still answered: renderings.py then renders
  it from its row.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26
"""

import json
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

from servicemap.models import Facility, FacilityRendering
from servicemap.registry import rendered_text
from servicemap.vocabulary import ordered_services

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BATCH = 5_000


def upgrade() -> None:
    op.create_table(
        "facility_rendering",
        sa.Column("facility_id", sa.Uuid(), sa.ForeignKey("facility.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rendering", sa.Text(), nullable=False),
    )
    connection, table = op.get_bind(), Facility.__table__
    last = -1
    while True:
        rows = connection.execute(sa.select(table).where(table.c.seq > last)
                                  .order_by(table.c.seq).limit(BATCH)).mappings().all()
        if not rows:
            return
        last = rows[-1]["seq"]
        services = {}
        for facility_id, service in connection.execute(sa.text(
                "SELECT facility_id, service FROM facility_service WHERE facility_id IN "
                "(SELECT id FROM facility WHERE seq BETWEEN :first AND :last)"),
                {"first": rows[0]["seq"], "last": last}):
            services.setdefault(str(facility_id).replace("-", ""), []).append(service)
        connection.execute(sa.insert(FacilityRendering.__table__), [
            {"facility_id": row["id"], "version": row["version"],
             "rendering": rendered_text(SimpleNamespace(**{**row, **_lists(row)},
                                                        services=ordered_services(
                                                            services.get(row["id"].hex, []))))}
            for row in rows])


def _lists(row) -> dict:
    # The JSON columns as lists whichever way the driver gave them.
    return {name: json.loads(row[name]) if isinstance(row[name], str) else row[name]
            for name in ("opening_hours", "closures")}


def downgrade() -> None:
    op.drop_table("facility_rendering")
