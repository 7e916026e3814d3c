"""SQLite: pragmas, BEGIN IMMEDIATE for writers, the R*Tree filled once after a bulk load."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import Engine, column, create_engine, event, func, literal_column, select, table
from sqlalchemy.dialects.sqlite import insert  # noqa: F401  (store.insert_or_ignore, upsert)
from sqlalchemy.exc import DBAPIError

from ..geo.rtree import class_rtree_select, rtree_select

UNAVAILABLE = (sqlite3.OperationalError, sqlite3.InterfaceError)
CONFLICT = (sqlite3.IntegrityError,)
BACKUP_INSTEAD = None  # backup() copies the file online

# Pragmas on every SQLite connection: WAL lets readers run beside a writer, busy_timeout makes a
# writer wait rather than fail, and cache/mmap keep the R*Tree and table pages in memory. Pages
# are read through the map (1 GiB of the file), shared by every worker and the OS's own cache;
# the page cache (16 MiB) is each connection's private memory, so it is kept small: at 64 MiB
# a worker's private memory at 1M facilities passed 150 MB.
CACHE_KIB = 16 * 1024
# A bulk load's own: its unique indexes (facility.id, the renderings' keys) take random UUIDs,
# and at 1M rows a 16 MiB cache made each insert a page miss.
BULK_CACHE_KIB = 256 * 1024
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    f"PRAGMA cache_size=-{CACHE_KIB}",
    "PRAGMA mmap_size=1073741824",
)


def make_engine(url: str, _statement_timeout_ms: int = 0, reader: bool = False) -> Engine:
    """The sessions' engine, or a reader's (store.make_engine): autocommit connections with
    nothing to reset when they go back to the pool, which cost a /nearest a tenth of its
    search each time."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if reader:
        engine = create_engine(url, connect_args={"check_same_thread": False},
                               isolation_level="AUTOCOMMIT", pool_reset_on_return=None)
        event.listen(engine, "connect", _on_connect)  # no BEGIN: each statement on its own
        return engine
    engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _on_connect)
    # With the driver's own transaction handling off, SQLAlchemy must say BEGIN itself.
    event.listen(engine, "begin", _begin)
    return engine


def lost(_dbapi_connection) -> bool:
    """A file does not go away between statements: a failure is the statement's own."""
    return False


def _on_connect(dbapi_connection, _record) -> None:
    # pysqlite's own transaction handling defers BEGIN; let SQLAlchemy emit it instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _begin(conn) -> None:
    # BEGIN IMMEDIATE for writes: a writer takes the write lock before it reads, so two
    # writers queue (busy_timeout) instead of the second failing on a stale snapshot.
    # Straight to the driver: every request's transaction starts here, and SQLAlchemy's
    # execution path for one keyword cost as much as a search's own statement.
    conn.connection.driver_connection.execute(
        f"BEGIN {conn.get_execution_options().get('sqlite_begin', '')}")


def write_bind(engine: Engine) -> Engine:
    return engine.execution_options(sqlite_begin="IMMEDIATE")


def hold_lock(_connection, _lock_id: int) -> None:
    """BEGIN IMMEDIATE already holds the one write lock until the transaction ends."""


def stored_renderings(cursor, ids: list) -> list[tuple]:
    """(id, version, seq, rendering) of the facilities with these UUIDs."""
    by_hex = {facility_id.hex: facility_id for facility_id in ids}
    cursor.execute("SELECT f.id, f.version, f.seq, r.rendering FROM facility f "
                   "LEFT JOIN facility_rendering r ON r.facility_id = f.id "
                   f"AND r.version = f.version WHERE f.id IN ({', '.join('?' * len(by_hex))})",
                   list(by_hex))
    return [(by_hex[row[0]], *row[1:]) for row in cursor.fetchall()]


def search():
    from ..geo.spatial import sqlite_nearest

    return sqlite_nearest


def community_search():
    from ..geo.community_index import sqlite_near

    return sqlite_near

def within():
    from ..geo.within import sqlite_within

    return sqlite_within


@contextmanager
def bulk_load(connection):
    """Within this transaction, index new rows in one statement per R*Tree instead of a trigger
    per row (the class R*Tree in class order, so that its nodes start out one class each, and
    once the services are written), and likewise the trigram and bigram text tables
    (migrations 0008, 0009).

    The insert triggers are dropped and re-created as they were; SQLite's DDL is transactional
    and the transaction holds the only write lock, so no other writer can slip past the index.
    The connection's page cache is large while the load runs (BULK_CACHE_KIB).
    """
    triggers = dict(connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN "
        "('facility_rtree_insert', 'facility_class_rtree_insert', "
        "'facility_class_rtree_services_insert', 'facility_text_insert', "
        "'facility_bigram_insert')").all())
    first = connection.exec_driver_sql("SELECT coalesce(max(seq), 0) FROM facility").scalar_one()
    for name in triggers:
        connection.exec_driver_sql(f"DROP TRIGGER {name}")
    connection.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    try:
        yield
        _index_new_rows(connection, triggers, first)
    finally:
        with suppress(DBAPIError):  # a failed load's own error is the one to raise
            connection.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")


def _index_new_rows(connection, triggers: dict, first: int) -> None:
    """The R*Trees' and text tables' rows for the facilities after seq `first`, each in one
    statement, and the insert triggers back as they were."""
    connection.exec_driver_sql(
        f"INSERT INTO facility_rtree {rtree_select('f', 'FROM facility f')} AND f.seq > ?",
        (first,))
    connection.exec_driver_sql(
        f"INSERT INTO facility_class_rtree {class_rtree_select('f', 'FROM facility f')} "
        "AND f.seq > ? ORDER BY 6, 8, 10, 1", (first,))
    if "facility_text_insert" in triggers:  # a database migrated to before 0008 has none
        connection.exec_driver_sql(
            f"INSERT INTO facility_text (rowid, {TEXT_COLUMNS}) "
            f"SELECT seq, {TEXT_COLUMNS} FROM facility WHERE seq > ?", (first,))
    if "facility_bigram_insert" in triggers:  # likewise before 0009
        connection.exec_driver_sql(
            f"INSERT INTO facility_bigram (rowid, grams) SELECT f.seq, {bigram_tokens('f')} "
            "FROM facility f WHERE f.seq > ?", (first,))
    for sql in triggers.values():
        connection.exec_driver_sql(sql)


# The FTS5 trigram table over these facility columns (migration 0008), keyed by facility.seq.
TEXT_COLUMNS = "name, name_en, address"
_TEXT = table("facility_text", column("rowid"))
TRIGRAM = 3  # FTS5's trigram tokenizer matches nothing shorter


# The bigram table (migration 0009): for each facility, one token per pair of adjacent
# characters of lower(column), written in hex so that FTS5's ascii tokenizer keeps every pair
# (CJK, digits, punctuation, spaces) as one token. Contentless with detail=none: it stores only
# which facilities hold each pair, and a removal repeats the tokens the row was indexed with,
# which this one expression recomputes from the row (triggers, bulk load).
_BIGRAM = table("facility_bigram", column("rowid"))
BIGRAM = 2
POSITIONS = "facility_text_position"  # n = 1 .. POSITION_MAX, the pairs' starting characters
# Beyond the API's longest text (address: 300 characters): longer text written around the API
# is indexed on its first POSITION_MAX characters only.
POSITION_MAX = 1000


def bigram_tokens(row: str) -> str:
    """SQL for the space-separated hex tokens of every character pair in name, name_en and
    address of `row` (a table alias, or NEW/OLD in a trigger, which allows no CTE)."""
    def pairs(name: str) -> str:
        return (f"coalesce((SELECT group_concat(hex(substr(lower({row}.{name}), n, 2)), ' ') "
                f"FROM {POSITIONS} WHERE n < length({row}.{name})), '')")
    return " || ' ' || ".join(pairs(name) for name in TEXT_COLUMNS.split(", "))


def text_candidates(table, text: str):
    """The facilities (table.c.seq) whose columns hold `text` as an index sees it: two
    characters, the pair in the bigram table (lower() as the substring test folds it); three
    or more, a phrase of its trigrams matched case-insensitively with Unicode folding (wider
    than SQL lower()'s ASCII, so the caller's substring test still decides). The text is bound
    in both."""
    rowids = _candidate_rowids(text)
    return None if rowids is None else table.c.seq.in_(rowids)


def _candidate_rowids(text: str):
    """The select() of the text index's candidates' rowids (facility.seq), or None."""
    if len(text) == BIGRAM:
        token = func.printf('"%s"', func.hex(func.lower(text)))
        return select(_BIGRAM.c.rowid).where(
            literal_column("facility_bigram").op("MATCH")(token))
    if len(text) < TRIGRAM:
        return None
    phrase = '"' + text.replace('"', '""') + '"'
    return select(_TEXT.c.rowid).where(literal_column("facility_text").op("MATCH")(phrase))


def text_may_be_common(session, text: str, rows: int) -> bool:
    """Whether `text` may be held by `rows` facilities or more: False when its text index
    gives fewer candidates, counted no further than `rows` (a fraction of a millisecond)."""
    rowids = _candidate_rowids(text)
    if rowids is None:
        return True
    return session.scalar(select(func.count()).select_from(rowids.limit(rows).subquery())) >= rows


# A list page for text many rows hold walks the list's index, testing each row, rather than
# sort every candidate the text index gives (keyed_page). Bounded: past about 10,000 rows
# (16 VM steps a row, some 13 ms) it gives up for the text index's plan.
WALK_STEPS, STEP_CHECK = 160_000, 10_000


def page_walker(session):
    """A page's walk on the session, bounded to WALK_STEPS (store.page_walker)."""
    return lambda produce: _bounded(session, produce)


def _bounded(session, produce):
    """produce() (a page's query on the session), or None if it ran past WALK_STEPS."""
    driver = session.connection().connection.dbapi_connection
    checks = 0

    def spent() -> bool:
        nonlocal checks
        checks += 1
        return checks * STEP_CHECK > WALK_STEPS  # true: SQLite interrupts the statement

    driver.set_progress_handler(spent, STEP_CHECK)
    try:
        return produce()
    except DBAPIError as error:
        if isinstance(error.orig, sqlite3.OperationalError) and "interrupted" in str(error.orig):
            return None
        raise
    finally:
        driver.set_progress_handler(None, STEP_CHECK)


def write_rows(connection, table: str, columns, rows) -> None:
    names = ", ".join(c.name for c in columns)
    marks = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})",
                               [tuple(row) for row in rows])


def backup(engine: Engine, path) -> None:
    """SQLite's online backup, page by page, while the app serves."""
    source = engine.raw_connection()
    try:
        target = sqlite3.connect(path)
        with target:
            source.driver_connection.backup(target)
        target.close()
    finally:
        source.close()
