"""The HTML allow-list every piece of authored Markdown passes through before reaching a page."""

import bleach

ALLOWED_TAGS = frozenset({
    "a", "abbr", "aside", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "mark", "ol", "p", "pre", "s",
    "section", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
_COMMON = ["class", "id"]


def _scroll_box(tag: str, name: str, value: str) -> bool:
    """Code blocks and tables may scroll sideways; tabindex=0 lets keyboard users scroll them too."""
    return name in _COMMON or (name == "tabindex" and value == "0")


ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "class", "id", "rel", "aria-label"],
    "img": ["src", "alt", "title", "width", "height", "loading"],
    "aside": ["class", "role", "aria-label"],
    "ol": ["class", "start"],
    "td": ["class"], "th": ["class", "scope"],
    **{tag: _COMMON for tag in ("h2", "h3", "h4", "h5", "h6", "li", "sup", "section", "div", "p", "span",
                                "code", "dl", "dt", "dd", "hr", "ul")},
    "pre": _scroll_box, "table": _scroll_box,
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

_cleaner = bleach.Cleaner(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, protocols=ALLOWED_PROTOCOLS,
                          strip=True, strip_comments=True)


def sanitize_html(html: str) -> str:
    """Return ``html`` with every tag, attribute and URL scheme outside the allow-list removed."""
    return _cleaner.clean(html)
