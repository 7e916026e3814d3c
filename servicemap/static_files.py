"""Static files (the pages' assets, the vendored Swagger UI) served from memory.

Flask's send_static_file hands the WSGI server an open file. An answer the server drops
unfinished (a browser that moves on mid-download) leaves that file to the garbage collector,
which warns of it, and holds its descriptor until then. The assets are small: each answer reads
its file whole and closes it at once, with the headers Flask gave (type, length, ETag in
werkzeug's form, Last-Modified, max-age) and its conditional answers (304, ranges)."""

from __future__ import annotations

import io
import os
import zlib

from flask import Response, send_file
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join


def send_static(folder: str | None, filename: str, max_age: int | None) -> Response:
    """The file `filename` below `folder` (never outside it), as send_static_file answers."""
    path = safe_join(folder, filename) if folder else None
    if path is None or not os.path.isfile(path):
        raise NotFound()
    with open(path, "rb") as handle:
        data, stat = handle.read(), os.fstat(handle.fileno())
    check = zlib.adler32(path.encode()) & 0xFFFFFFFF
    return send_file(io.BytesIO(data), download_name=filename, max_age=max_age,
                     last_modified=stat.st_mtime, etag=f"{stat.st_mtime}-{len(data)}-{check}",
                     conditional=True)


class StaticFromMemory:
    """For Flask and Blueprint subclasses: send_static_file answered by send_static."""

    def send_static_file(self, filename: str) -> Response:
        return send_static(self.static_folder, filename, self.get_send_file_max_age(filename))
