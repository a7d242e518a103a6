"""Reading public pages in tests: links, resources, focus order and visible text."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

FOCUSABLE = {"a", "button", "input", "select", "textarea"}


@dataclass
class Page:
    lang: str = ""
    focusable: list[dict[str, str]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    forms: int = 0
    inline_scripts: int = 0
    inline_styles: int = 0

    @property
    def visible_text(self) -> str:
        return " ".join(" ".join(self.text).split())


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.page.lang = a.get("lang", "")
        if tag in {"script", "style", "title"}:
            self._skip += 1
        if tag == "script":
            if a.get("src"):
                self.page.resources.append(a["src"])
            else:
                self.page.inline_scripts += 1
        if tag == "style":
            self.page.inline_styles += 1
        if "style" in a:
            self.page.inline_styles += 1
        if tag == "link" and a.get("rel") == "stylesheet":
            self.page.resources.append(a["href"])
        if tag in {"img", "iframe", "source", "video", "audio", "embed", "object"}:
            self.page.resources.append(a.get("src") or a.get("data") or "")
        if tag == "form":
            self.page.forms += 1
        if tag == "a" and a.get("href"):
            self.page.links.append(a["href"])
        if tag in FOCUSABLE and (tag != "a" or a.get("href")) and "hidden" not in a:
            self.page.focusable.append({"tag": tag, **a})

    def handle_endtag(self, tag):
        if tag in {"script", "style", "title"}:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.page.text.append(data)


def parse(html: str | bytes) -> Page:
    parser = _Parser()
    parser.feed(html.decode() if isinstance(html, bytes) else html)
    return parser.page
