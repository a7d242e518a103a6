"""The small text format of the help texts, so editors need no HTML and can inject none.

- a blank line separates blocks;
- a line starting with "## " is a heading;
- lines starting with "- " are items of a list;
- any other lines form a paragraph;
- **words** between double asterisks are emphasised.

Everything is escaped first; the only HTML produced is what these rules make.
"""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_STRONG = re.compile(r"\*\*(.+?)\*\*")


def _inline(text: str) -> str:
    return _STRONG.sub(r"<strong>\1</strong>", escape(text))


def render(text: str, *, heading_level: int = 2) -> SafeString:
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("## "):
            flush()
            h = f"h{heading_level}"
            out.append(f"<{h}>{_inline(line[3:].strip())}</{h}>")
        elif line.startswith("- "):
            if paragraph:
                flush()
            items.append(line[2:].strip())
        elif items and raw.startswith(("  ", "\t")):
            items[-1] += " " + line  # a list item continued on the next line
        else:
            if items:
                flush()
            paragraph.append(line)
    flush()
    return mark_safe("\n".join(out))  # noqa: S308 - built only from escaped text above


def plain(text: str) -> str:
    """The text without markup (for checks and for the staff list)."""
    return _STRONG.sub(r"\1", text)
