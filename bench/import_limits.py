"""Import limits benchmark: time and peak memory of an import, for ordinary files and for
the hostile ones of issue 9 (an XLSX zip bomb, a tiny XLSX of a million rows, a CSV of two
million blank rows, a day range of thirty million), each in a fresh process.

    .venv/bin/python bench/import_limits.py [--rows 20000] [--baseline-src DIR]

Prints one table: case, file size, rows in the file, outcome, seconds, the growth of the
process's peak RSS during the import (which includes SQLite's page cache, up to 64 MB by
its pragma), and in a second run the peak of Python's own allocations (tracemalloc), each
also as a multiple of the file's size. With
--baseline-src (a checkout of an older servicemap) every case also runs on that code, side
by side. Limits are the defaults (SERVICEMAP_MAX_IMPORT_ROWS, SERVICEMAP_MAX_IMPORT_BYTES).
"""

from __future__ import annotations

import argparse
import inspect
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
NEWLINE = b"\n"
STRINGS = "xl/sharedStrings.xml"
STRINGS_TYPE = (b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
                b'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" /></Types>')


def _xlsx_with(template_rows: list[list], member: str, write) -> bytes:
    """An openpyxl workbook with one member's text replaced by what `write` streams."""
    from openpyxl import Workbook

    book = Workbook()
    for row in template_rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    source, out = zipfile.ZipFile(buffer), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename == "[Content_Types].xml" and member == STRINGS:
                # openpyxl wrote inline strings: declare the shared strings it is to read.
                target.writestr(info, source.read(info).replace(b"</Types>", STRINGS_TYPE))
            elif info.filename != member:
                target.writestr(info, source.read(info))
        with target.open(member, "w", force_zip64=True) as handle:
            write(handle)
    return out.getvalue()


def make_files(folder: Path, rows: int) -> list[tuple[str, Path, str, bool]]:
    """(case, path, format, dry_run) for every case, written to folder."""
    sys.path.insert(0, str(HERE))
    from imports import make_csv
    from openpyxl import Workbook

    files = []
    csv_data = make_csv(rows)
    (folder / "ok.csv").write_bytes(csv_data)
    files += [(f"CSV {rows:,} rows, dry run", folder / "ok.csv", "csv", True),
              (f"CSV {rows:,} rows, import", folder / "ok.csv", "csv", False)]
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for line in csv_data.decode().splitlines():
        sheet.append(line.split(",") if '"' not in line else [line])
    book.save(folder / "ok.xlsx")
    files.append((f"XLSX {rows:,} rows, import", folder / "ok.xlsx", "xlsx", False))

    header = ["name", "kind", "address", "district_code", "lat", "lon"]

    def shared_strings(handle):  # a million strings of 1,000 bytes: 1,000 MB, 1 MB zipped
        handle.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
        string = b"<si><t>" + b"A" * 1000 + b"</t></si>"
        for _ in range(1000):
            handle.write(string * 1000)
        handle.write(b"</sst>")

    (folder / "bomb.xlsx").write_bytes(_xlsx_with([header, ["x"] * 6], STRINGS,
                                                  shared_strings))
    files.append(("XLSX bomb (shared strings 1,000 MB)", folder / "bomb.xlsx", "xlsx", True))

    def million_rows(handle):
        handle.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                     b'2006/main"><sheetData>')
        for r in range(1, 1_000_001):
            handle.write(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c></row>'
                         % (r, r))
        handle.write(b"</sheetData></worksheet>")

    (folder / "rows.xlsx").write_bytes(_xlsx_with([header], "xl/worksheets/sheet1.xml",
                                                  million_rows))
    files.append(("XLSX of 1,000,000 rows", folder / "rows.xlsx", "xlsx", True))
    (folder / "blank.csv").write_bytes(",".join(header).encode() + b"\n" + b"x\n" * 2_000_000)
    files.append(("CSV of 2,000,000 rows", folder / "blank.csv", "csv", True))
    (folder / "hours.csv").write_bytes(
        b"name,kind,address,opening_hours\nx,meal_point,\xe9\x87\x8d\xe5\xba\x86,"
        b"1-30000000 08:00-17:00\n")
    files.append(("one cell 1-30000000 08:00-17:00", folder / "hours.csv", "csv", True))
    return files


def run_one(path: Path, fmt: str, dry_run: bool, instance: Path, trace: bool) -> dict:
    """In this (fresh) process: import the file once, measuring time and peak RSS, or with
    `trace` the peak of Python's own allocations (tracemalloc, which slows the run)."""
    from servicemap import create_app
    from servicemap.config import Config
    from servicemap.database import upgrade
    from servicemap.extensions import db
    from servicemap.importing import import_facilities

    config = Config(database_url=f"sqlite:///{instance / 'bench.sqlite3'}", auto_init=False,
                    instance_dir=instance, log_level="WARNING")
    app = create_app(config)
    data = path.read_bytes()
    parameters = inspect.signature(import_facilities).parameters
    if "limits" in parameters:
        from servicemap.importing import ReadLimits

        options = {"limits": ReadLimits(config.max_import_rows, config.max_import_bytes)}
    else:  # the code before the limits were read as the file is
        options = {"max_rows": config.max_import_rows}
    with app.app_context():
        upgrade(db.engine)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if trace:
            tracemalloc.start()
        start = time.perf_counter()
        try:
            report = import_facilities(data, fmt, dry_run=dry_run, **options)
            outcome = (f"{len({p['line'] for p in report.invalid})} invalid" if report.invalid
                       else f"{report.created + report.updated + report.unchanged} rows ok")
        except Exception as exc:  # the refusals: the report shows which
            outcome = f"refused: {type(exc).__name__} {getattr(exc, 'status', '')}".strip()
        seconds = time.perf_counter() - start
        traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"outcome": outcome, "seconds": seconds, "rss_mb": (after - before) / 1024,
            "traced_mb": traced}


def child(src: str | None, path: Path, fmt: str, dry_run: bool, trace: bool = False) -> dict:
    environment = dict(os.environ)
    if src:
        environment["PYTHONPATH"] = src
    with tempfile.TemporaryDirectory(prefix="servicemap-bench-") as instance:
        output = subprocess.run(
            [sys.executable, __file__, "--child", str(path), fmt, str(dry_run), instance,
             str(trace)],
            env=environment, capture_output=True, text=True, timeout=900, check=False)
    if output.returncode:
        return {"outcome": f"crashed ({output.returncode})", "seconds": float("nan"),
                "rss_mb": float("nan"), "traced_mb": float("nan")}
    return json.loads(output.stdout.strip().splitlines()[-1])


def count_rows(path: Path, fmt: str) -> str:
    if fmt == "csv":
        return f"{path.read_bytes().count(NEWLINE) - 1:,}"
    return "1,000,000" if path.name == "rows.xlsx" else ("1" if path.name == "bomb.xlsx" else
                                                          "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--baseline-src", help="an older checkout to run side by side")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        path, fmt, dry_run, instance, trace = args.child
        print(json.dumps(run_one(Path(path), fmt, dry_run == "True", Path(instance),
                                 trace == "True")))
        return
    folder = Path(tempfile.mkdtemp(prefix="servicemap-import-files-"))
    codes = [("this", None)] + ([("baseline", args.baseline_src)] if args.baseline_src else [])
    print(f"{'case':<36} {'file':>9} {'rows':>10} {'code':<8} {'outcome':<26} "
          f"{'seconds':>8} {'peak RSS +MB':>12} {'× file':>7} {'traced MB':>9} {'× file':>7}")
    for case, path, fmt, dry_run in make_files(folder, args.rows):
        size = path.stat().st_size
        for label, src in codes:
            result = child(src, path, fmt, dry_run)
            traced = child(src, path, fmt, dry_run, trace=True)["traced_mb"]
            print(f"{case:<36} {size / 1e6:>7.2f}MB {count_rows(path, fmt):>10} {label:<8} "
                  f"{result['outcome'][:26]:<26} {result['seconds']:>8.2f} "
                  f"{result['rss_mb']:>12.1f} {result['rss_mb'] * 2**20 / size:>7.1f} "
                  f"{traced:>9.1f} {traced * 2**20 / size:>7.1f}")


if __name__ == "__main__":
    main()
