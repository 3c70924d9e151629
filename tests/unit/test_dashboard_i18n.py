"""The dashboard's words come from the report's message catalogues: every message the page and its
script use, found by the extractors babel.cfg names (the ones ``pybabel extract`` runs), has a
zh-CN translation with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from api.reports.i18n import catalogue

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def dashboard_messages() -> dict[str, str]:
    """message id → the file it is used in, as pybabel extracts them from api/static."""
    with (ROOT / "api/reports/babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
            ROOT / "api/static", method_map, options_map, keywords={"t": None}):
        found[message if isinstance(message, str) else message[0]] = filename
    return found


def test_the_page_and_its_script_are_both_extracted():
    used_in = set(dashboard_messages().values())
    assert used_in == {"dashboard.html", "dashboard.js"}


def test_every_message_of_the_dashboard_has_a_chinese_translation_with_the_same_placeholders():
    chinese = catalogue("zh_CN")
    messages = dashboard_messages()
    assert len(messages) > 50
    untranslated = sorted(m for m in messages if m not in chinese)
    assert untranslated == []
    mismatched = {m: chinese[m] for m in messages
                  if set(PLACEHOLDER.findall(m)) != set(PLACEHOLDER.findall(chinese[m]))}
    assert mismatched == {}


def test_every_translate_call_in_the_script_is_extracted():
    """A message inside a nested template literal can escape the extractor: none may."""
    script = (ROOT / "api/static/dashboard.js").read_text()
    called = set(re.findall(r'\bt\("([^"\\]*)"', script))
    assert called - set(dashboard_messages()) == set()
