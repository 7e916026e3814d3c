"""What can go wrong: a bad programme file, or bad facts about a person."""

from __future__ import annotations


class CatalogueError(ValueError):
    """A programme file is invalid; the message names the file, the path in it and the problem."""


class FactError(ValueError):
    """Facts about a person are invalid: messages by fact name, every bad fact named."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(f"invalid facts: {', '.join(sorted(errors))}")
        self.errors = errors


class SpecError(Exception):
    """A problem at a path inside one programme, before the loader adds the file and line."""

    def __init__(self, path: tuple, message: str):
        super().__init__(message)
        self.path, self.message = tuple(path), message


def format_path(path: tuple) -> str:
    """('criteria', 1, 'any', 2) as 'criteria[1].any[2]'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"
