"""flask --app servicemap coverage report: the /admin/coverage page as one self-contained HTML
file (CSS inlined, no scripts, nothing fetched) that a planner can email."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .community_schemas import POPULATIONS
from .pages.coverage import report_html

coverage_commands = AppGroup("coverage", help="Coverage of communities by services (#15).")


@coverage_commands.command("report")
@click.option("--kind", help="Facilities of this kind cover (e.g. meal_point).")
@click.option("--program", help="Or: facilities delivering this programme.")
@click.option("--distance", "distance_m", required=True, help="Walking distance in metres.")
@click.option("--detour", help="路网系数: geodesic distance times this (default 1.0).")
@click.option("--district", help="Only this district (code or name).")
@click.option("--street", help="Only this 街道/镇.")
@click.option("--population", type=click.Choice(POPULATIONS), help="The figure counted.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The HTML file to write.")
def report_command(out: Path, lang: str, **options):
    """Write the coverage page for these options to one HTML file."""
    asked = {name: value for name, value in options.items() if value is not None}
    # The page's templates want a request (language, labels): a made-up one, never served.
    with current_app.test_request_context("/admin/coverage", query_string={"lang": lang}):
        html, errors = report_html(asked)
    if errors:
        named = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
        raise click.UsageError(named)
    out.write_text(html, encoding="utf-8")
    click.echo(f"wrote {out} ({len(html.encode()):,} bytes)")
