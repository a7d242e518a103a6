"""Every staff-UI string has a Russian translation: no empty and no fuzzy entries, none missing
from the catalogues, and none translated once at import."""

import ast
import io
import re
import subprocess
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_python
from babel.messages.pofile import read_po
from django.utils.translation.template import templatize

import refuge

SRC = Path(refuge.__file__).parent
CATALOGUES = sorted(SRC.rglob("locale/ru/LC_MESSAGES/django.po"))


def test_there_are_catalogues():
    assert len(CATALOGUES) >= 3


@pytest.mark.parametrize(
    "po", CATALOGUES, ids=lambda p: str(p.relative_to(Path(refuge.__file__).parent))
)
def test_every_string_is_translated(po):
    out = subprocess.run(
        # --check, not only --check-format: the plural checks come with the header's (a
        # Russian form 0 also serves 21, 31…, so it must name the number: found on referrals).
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    stats = out.stderr.strip().splitlines()[-1]
    assert not re.search(r"(fuzzy|untranslated)", stats), f"{po}: {stats}"


# The gettext functions the code calls, with where their message and context are (Babel's form).
KEYWORDS = dict(
    DEFAULT_KEYWORDS,
    gettext_lazy=None,
    gettext_noop=None,
    ngettext_lazy=(1, 2),
    pgettext_lazy=((1, "c"), 2),
    npgettext_lazy=((1, "c"), 2, 3),
)


def _translated() -> set[tuple[str | None, str]]:
    done = set()
    for po in CATALOGUES:
        for m in read_po(po.open("rb")):
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            if m.id and all(strings) and not m.fuzzy:
                done.add((m.context, m.id if isinstance(m.id, str) else m.id[0]))
    return done


def _python_of(path: Path) -> bytes:
    if path.suffix == ".py":
        return path.read_bytes()
    # A template becomes the Python-like text makemessages hands to xgettext; its indentation
    # follows the HTML, so it is dropped for the tokenizer.
    code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    return "\n".join(line.lstrip() for line in code.splitlines()).encode()


def test_every_string_in_the_code_has_a_russian_translation():
    # The catalogues are written by hand, so a new gettext call can miss them altogether; the
    # check above only sees what is in a catalogue. Django merges the apps' catalogues, so a
    # string counts as translated in any of them.
    done = _translated()
    missing = []
    for path in sorted(SRC.rglob("*")):
        name = path.relative_to(SRC).as_posix()
        code = path.suffix == ".py" and not name.startswith("placement/")
        template = path.suffix == ".html" and "/templates/" in f"/{name}"
        if not (code or template):
            continue
        found = extract_python(io.BytesIO(_python_of(path)), KEYWORDS.keys(), [], {})
        for line, function, message, _comments in found:
            parts = (message,) if isinstance(message, str) else message
            context = parts[0] if function.startswith(("pgettext", "npgettext")) else None
            msgid = parts[1] if context is not None else parts[0]
            if isinstance(msgid, str) and msgid and (context, msgid) not in done:
                missing.append(f"{name}:{line} {msgid!r}")
    assert not missing, "No Russian translation for:\n" + "\n".join(missing)


def _eager_calls_outside_functions(tree: ast.Module) -> list[int]:
    """Lines where gettext (not gettext_lazy) runs at import: at module or class level."""
    eager = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"
        for alias in node.names
        if alias.name in ("gettext", "ngettext", "pgettext", "npgettext")
    }
    found: list[int] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Name)
                and child.func.id in eager
            ):
                found.append(child.lineno)
            visit(child)

    visit(tree)
    return sorted(found)


def test_no_string_is_translated_at_import():
    # A constant built with gettext keeps the language of the import (English) for every
    # request; module-level and class-level strings need gettext_lazy.
    found = []
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        lines = _eager_calls_outside_functions(ast.parse(path.read_text(encoding="utf-8")))
        found += [f"{name}:{line}" for line in lines]
    assert not found, "gettext at import time (use gettext_lazy): " + ", ".join(found)
