"""The report's language: message catalogues (gettext ``.po``, read with Babel at run time, so a
fresh clone needs no compile step) and Babel's number, percent and date formats per locale.

Message ids are the English text; ``locale/<lang>/LC_MESSAGES/messages.po`` holds each
language's translations (English's catalogue is empty: the ids are its text). A message missing
from a catalogue falls back to its id and is remembered in ``missing`` (a test keeps it empty).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_datetime, format_skeleton
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

LANGUAGES = {"zh-CN": "zh_CN", "en": "en"}
LOCALE_DIR = Path(__file__).parent / "locale"


class UnknownLanguage(ValueError):
    pass


@lru_cache(maxsize=None)
def catalogue(code: str) -> dict[str, str]:
    path = LOCALE_DIR / code / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        parsed = read_po(handle, locale=code)
    return {str(m.id): str(m.string) for m in parsed if m.id and m.string and not m.fuzzy}


class Translator:
    def __init__(self, lang: str):
        if lang not in LANGUAGES:
            raise UnknownLanguage(f"lang must be one of {', '.join(LANGUAGES)}")
        self.lang, self.code = lang, LANGUAGES[lang]
        self.locale = Locale.parse(self.code)
        self.messages = catalogue(self.code)
        self.missing: set[str] = set()

    # ------------------------------------------------------------------------------ text
    def __call__(self, message: str, **values: Any) -> str:
        text = self.messages.get(message)
        if text is None:
            if self.code != "en":
                self.missing.add(message)
            text = message
        return text.format(**values) if values else text

    # --------------------------------------------------------------------------- numbers
    def number(self, value: float | int | None, digits: int = 1) -> str:
        if value is None:
            return "–"
        if isinstance(value, int):
            return format_decimal(value, locale=self.locale)
        return format_decimal(round(value, digits), format=f"#,##0.{'0' * digits}" if digits else "#,##0",
                              locale=self.locale)

    def percent(self, fraction: float | None, digits: int = 1) -> str:
        if fraction is None:
            return "–"
        return format_percent(fraction, format=f"#,##0.{'0' * digits}%", locale=self.locale)

    def points(self, value: float | None) -> str:
        """A change of a rate, in percentage points (signed)."""
        if value is None:
            return "–"
        t = self  # the keyword pybabel extracts (babel.cfg)
        return t("{value} pp", value=("+" if value > 0 else "") + self.number(value, 1))

    def hours(self, seconds: float | None) -> str:
        if seconds is None:
            return "–"
        if abs(seconds) < 3600:
            return self("{value} min", value=self.number(seconds / 60, 1))
        return self("{value} h", value=self.number(seconds / 3600, 1))

    def minutes(self, minutes: float | None) -> str:
        return "–" if minutes is None else self.hours(minutes * 60)

    def month(self, period: str) -> str:
        year, month = (int(p) for p in period.split("-"))
        return format_skeleton("yMMM", datetime(year, month, 1), locale=self.locale)

    def instant(self, text: str | None, zone: Any = None) -> str:
        if not text:
            return "–"
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return format_datetime(moment, "medium", tzinfo=zone, locale=self.locale) + (
            f" ({getattr(zone, 'key', 'UTC')})" if zone is not None else " UTC")


# ----------------------------------------------------------------------- the dashboard's page
def extract_dashboard_html(fileobj: Any, keywords: Any, comment_tags: Any, options: Any):
    """Babel extractor (``babel.cfg``) for the dashboard page's words: the message id of every
    ``data-i18n``, ``data-i18n-placeholder`` and ``data-i18n-aria-label`` attribute (the page's script translates them in place)."""
    from html.parser import HTMLParser

    found: list[tuple[int, str]] = []

    class Page(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            for name, value in attrs:
                if name in ("data-i18n", "data-i18n-placeholder", "data-i18n-aria-label") and value:
                    found.append((self.getpos()[0], value))

    Page().feed(fileobj.read().decode(options.get("encoding", "utf-8")))
    for line, message in found:
        yield line, None, message, []
