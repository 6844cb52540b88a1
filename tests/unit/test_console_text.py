"""The console's Chinese catalogue: every message the pages and modules use has a translation, and
the committed .mo is the compiled .po (an installed package serves what the .po says)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

CONSOLE = Path(__file__).resolve().parents[2] / "services" / "console"
CATALOGUE = CONSOLE / "translations" / "zh" / "LC_MESSAGES"
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def used_messages() -> set[str]:
    keywords = {"_": None, "gettext": None, "_l": None}
    return {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(str(CONSOLE), METHODS, keywords=keywords)
    }


def test_every_message_has_a_chinese_translation() -> None:
    with open(CATALOGUE / "messages.po", "rb") as f:
        po = read_po(f)
    translated = {m.id: m.string for m in po if m.id}
    used = used_messages()
    assert len(used) > 100
    missing = sorted(m for m in used if not translated.get(m))
    assert missing == []


def test_the_compiled_catalogue_is_the_po() -> None:
    with open(CATALOGUE / "messages.po", "rb") as f:
        po = {m.id: m.string for m in read_po(f) if m.id}
    with open(CATALOGUE / "messages.mo", "rb") as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id}
    assert mo == po
