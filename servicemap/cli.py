"""Command-line tools: flask --app servicemap seed | keys | db."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from . import store
from .auth import create_key
from .coverage_cli import coverage_commands
from .database import upgrade
from .districts import find_district
from .extensions import db
from .geo.coordsys import COORDSYS
from .importing import EXTENSIONS, TARGETS, FileTooLarge, UnreadableFile, import_records
from .models import ApiKey
from .registry import pending_ids, retry_pending
from .seeding import SeedError, seed_communities, seed_facilities
from .vocabulary import ROLES

keys = AppGroup("keys", help="Create, list, revoke and rotate API keys.")
database = AppGroup("db", help="Database schema.")


@click.command("seed")
@with_appcontext
def seed_command():
    """(Re)load the sample registry and communities from seeds/; rows are matched by
    external_id."""
    upgrade(db.engine)
    try:
        report = seed_facilities()
        communities = seed_communities()
    except SeedError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {report.created}, updated {report.updated}, "
               f"unchanged {report.unchanged}")
    click.echo(f"communities: created {communities.created}, updated {communities.updated}, "
               f"unchanged {communities.unchanged}")


@database.command("upgrade")
def db_upgrade():
    """Apply the Alembic migrations up to the newest."""
    upgrade(db.engine)
    click.echo("schema is up to date")


def _district_code(_ctx, _param, values):
    codes = []
    for value in values:
        district = find_district(value)
        if district is None:
            raise click.BadParameter(f"{value!r} is not a district of Chongqing")
        codes.append(district.code)
    return codes


@keys.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--district", "districts", multiple=True, callback=_district_code,
              help="District code or name an editor may write (repeatable).")
@click.option("--name", default="", help="Who or what the key is for.")
def keys_create(role: str, districts: list[str], name: str):
    """Create a key and print it once; only its hash is stored."""
    if role == "editor" and not districts:
        raise click.UsageError("an editor key needs at least one --district")
    if role == "admin" and districts:
        raise click.UsageError("an admin key writes everywhere; --district is for editors")
    upgrade(db.engine)
    key, secret = create_key(role, districts, name or f"{role} key")
    click.echo(f"created {role} key {key.id} ({key.prefix}…); it will not be shown again:",
               err=True)
    click.echo(secret)


@keys.command("list")
def keys_list():
    """List keys: id, prefix, role, districts, created, revoked."""
    for key in db.session.scalars(select(ApiKey).order_by(ApiKey.created_at)):
        revoked = key.revoked_at.isoformat() if key.revoked_at else "-"
        click.echo(f"{key.id}  {key.prefix}…  {key.role:6}  {','.join(key.districts) or '*'}  "
                   f"{key.name}  created {key.created_at:%Y-%m-%d}  revoked {revoked}")


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str):
    """Revoke a key by its id or prefix; it stops working at once."""
    key = _find_key(key_id)
    key.revoked_at = key.revoked_at or datetime.now(UTC)
    db.session.commit()
    click.echo(f"revoked {key.id}")


@keys.command("rotate")
@click.argument("key_id")
def keys_rotate(key_id: str):
    """Revoke a key (by id or prefix) and print a new one with the same role, districts, name."""
    old = _find_key(key_id)
    if old.revoked_at is not None:
        raise click.ClickException(f"key {old.id} is revoked already; create a new one")
    old.revoked_at = datetime.now(UTC)
    # create_key commits the revocation and the new key together.
    key, secret = create_key(old.role, list(old.districts), old.name)
    click.echo(f"revoked {old.id}; created {key.role} key {key.id} ({key.prefix}…); "
               "it will not be shown again:", err=True)
    click.echo(secret)


def _find_key(key_id: str) -> ApiKey:
    """The one key with this id or prefix, or a command-line error."""
    found = db.session.scalars(select(ApiKey).where(
        (ApiKey.prefix == key_id) | (ApiKey.id == _uuid_or_none(key_id)))).all()
    if not found:
        raise click.ClickException(f"no key {key_id}")
    if len(found) > 1:
        raise click.ClickException(f"{len(found)} keys have the prefix {key_id}; give the id")
    return found[0]


def _uuid_or_none(text: str):
    import uuid

    try:
        return uuid.UUID(text)
    except ValueError:
        return None


@click.command("geocode")
@click.option("--pending", "pending", is_flag=True,
              help="Retry the facilities kept as drafts because their address was not found.")
@click.option("--batch-size", default=50, show_default=True, type=click.IntRange(1),
              help="Facilities per commit.")
@with_appcontext
def geocode_command(pending: bool, batch_size: int):
    """Geocode again the facilities still waiting for a location (--pending)."""
    if not pending:
        raise click.UsageError("say --pending to retry the facilities waiting for a location")
    upgrade(db.engine)
    ids = pending_ids()
    with click.progressbar(length=len(ids), label="geocoding", file=sys.stderr) as bar:
        located, still = retry_pending(ids, batch_size, bar.update)
    click.echo(f"located {located}, still pending {still}")


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
@click.option("--coordsys", type=click.Choice(COORDSYS),
              help="Coordinate system of rows that do not name one.")
@click.option("--into", type=click.Choice(list(TARGETS)), default="facilities",
              show_default=True, help="What the file holds.")
@with_appcontext
def import_command(path: Path, dry_run: bool, coordsys: str | None, into: str):
    """Import facilities (or communities) from a CSV, XLSX, JSON, GeoJSON or HSDS file: all
    rows or none."""
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise click.BadParameter(f"expected one of {', '.join(EXTENSIONS)}", param_hint="PATH")
    upgrade(db.engine)
    data = path.read_bytes()
    with click.progressbar(length=max(1, data.count(b"\n")), label="rows",
                           file=sys.stderr) as bar:
        try:
            report = import_records(data, fmt, TARGETS[into], dry_run=dry_run,
                                    coordsys=coordsys, progress=bar.update)
        except (UnreadableFile, FileTooLarge) as exc:
            raise click.ClickException(f"{path}: {exc}") from None
    for problem in report.invalid:
        click.echo(f"{path}:{problem['line']}: {problem['column']}: {problem['reason']}",
                   err=True)
    if report.unknown_columns:
        click.echo(f"unknown columns: {', '.join(report.unknown_columns)}", err=True)
    click.echo(f"created {report.created}, updated {report.updated}, "
               f"unchanged {report.unchanged}, invalid rows "
               f"{len({p['line'] for p in report.invalid})}"
               + (" (dry run: nothing written)" if dry_run else ""))
    if not dry_run and not report.accepted:
        raise click.ClickException("nothing was imported")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path):
    """Copy the embedded SQLite database to PATH while it serves (SQLite's online backup).

    For PostgreSQL use pg_dump (see the README's Deploying section).
    """
    if (instead := store.backup_unsupported(db.engine)) is not None:
        raise click.ClickException(instead)
    if path.exists():
        raise click.ClickException(f"{path} exists; choose a new file")
    path.parent.mkdir(parents=True, exist_ok=True)
    store.backup(db.engine, path)
    click.echo(f"backed up to {path}")


def register(app: Flask) -> None:
    for command in (seed_command, keys, database, geocode_command, import_command,
                    backup_command, coverage_commands):
        app.cli.add_command(command)
