"""The repository stands alone: every link in its Markdown resolves to a file inside it."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _documents() -> list[Path]:
    skipped = {".git", ".venv", "node_modules"}
    return [path for path in ROOT.rglob("*.md")
            if not skipped & set(path.relative_to(ROOT).parts)]


def test_every_relative_link_resolves_inside_the_repository():
    broken = []
    for document in _documents():
        for target in LINK.findall(document.read_text("utf-8")):
            parts = urlsplit(target)
            if parts.scheme or not parts.path:  # web links; anchors within the page
                continue
            resolved = (document.parent / unquote(parts.path)).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                broken.append(f"{document.relative_to(ROOT)}: {target}")
    assert not broken, broken


def test_nothing_refers_to_files_beside_the_repository():
    mentions = [f"{path.relative_to(ROOT)}:{number}"
                for path in [*_documents(), *ROOT.glob("tests/*.py"), *ROOT.glob("bench/*.py"),
                             ROOT / ".ci" / "run"]
                for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
                if path != Path(__file__).resolve()
                and ("../shared" in line or "shared/docs" in line or "shared/hsds" in line)]
    assert not mentions, mentions
