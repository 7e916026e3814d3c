"""The pages' blueprint and what every page shares: language, 长辈模式, plain words."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, redirect, render_template, request
from werkzeug.exceptions import HTTPException

from ..errors import Problem
from ..static_files import StaticFromMemory
from ..vocabulary import KINDS, SERVICES, STATUSES


class PagesBlueprint(StaticFromMemory, Blueprint):
    """The pages' blueprint: its assets are answered from memory."""


blp = PagesBlueprint("pages", __name__, template_folder="templates", static_folder="static",
                     static_url_path="/assets")

LANGUAGES = ("zh", "en")
ELDER_COOKIE, LANG_COOKIE = "sm_elder", "sm_lang"
PREFERENCE_AGE = 365 * 24 * 3600  # a year: "remembered on the device"


def language() -> str:
    """The page language: ?lang= first, then the remembered choice, then Chinese."""
    asked = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    return asked if asked in LANGUAGES else "zh"


def elder_mode() -> bool:
    """长辈模式: ?elder=1/0 first, then the remembered choice."""
    asked = request.args.get("elder") or request.cookies.get(ELDER_COOKIE)
    return asked == "1"


def translate(zh: str, en: str) -> str:
    """The text in the page's language (the pages' one way to say things twice)."""
    return en if language() == "en" else zh


def label(vocabulary: dict[str, tuple[str, str]], slug: str | None) -> str:
    """A vocabulary slug in plain words (助餐点, not meal_point)."""
    if slug not in vocabulary:
        return slug or ""
    zh, en = vocabulary[slug]
    return translate(zh, en)


def distance_text(metres: float) -> str:
    """790 米 / 1.2 公里 (790 m / 1.2 km)."""
    if metres < 1000:
        return translate(f"{round(metres)} 米", f"{round(metres)} m")
    kilometres = f"{metres / 1000:.1f}".removesuffix(".0")
    return translate(f"{kilometres} 公里", f"{kilometres} km")


def here(**changes) -> str:
    """The current page's URL with query arguments changed (None removes one)."""
    pairs = [(k, v) for k, v in request.args.items(multi=True) if k not in changes]
    pairs += [(k, v) for k, v in changes.items() if v is not None]
    query = urlencode(pairs)
    return request.path + (f"?{query}" if query else "")


def safe_next(target: str | None) -> str:
    """A same-site path to go back to: never another host (no open redirect)."""
    parts = urlsplit(target or "/")
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or "\\" in target:
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


@blp.app_context_processor
def _page_globals() -> dict:
    return {"t": translate, "lang": language, "elder": elder_mode, "label": label,
            "distance_text": distance_text, "here": here, "KINDS": KINDS,
            "SERVICES": SERVICES, "STATUSES": STATUSES}


@blp.route("/prefs")
def preferences():
    """Remember 长辈模式 or the language on this device, then go back (works without JS)."""
    response = redirect(safe_next(request.args.get("next")), code=303)
    if request.args.get("elder") in ("0", "1"):
        response.set_cookie(ELDER_COOKIE, request.args["elder"], max_age=PREFERENCE_AGE,
                            samesite="Lax", httponly=True)
    if request.args.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, request.args["lang"], max_age=PREFERENCE_AGE,
                            samesite="Lax", httponly=True)
    return response


@blp.after_app_request
def _remember_language(response: Response) -> Response:
    # ?lang= on any page is remembered, so the next page (without it) stays in that language.
    asked = request.args.get("lang")
    if request.blueprint == "pages" and asked in LANGUAGES and asked != request.cookies.get(
            LANG_COOKIE):
        response.set_cookie(LANG_COOKIE, asked, max_age=PREFERENCE_AGE, samesite="Lax",
                            httponly=True)
    return response


@blp.errorhandler(Problem)
def _problem_page(error: Problem):
    return render_template("pages/error.html", status=error.status, detail=error.detail,
                           errors=error.errors), error.status


@blp.errorhandler(HTTPException)
def _http_error_page(error: HTTPException):
    return render_template("pages/error.html", status=error.code, detail=error.description,
                           errors=None), error.code
