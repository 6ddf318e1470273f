"""Markdown to safe HTML: markdown-it-py with our plugins, id-based links, then the sanitizer."""

import re
from dataclasses import dataclass, field
from html import escape
from urllib.parse import quote

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin

from lms.content.sanitize import sanitize_html

CALLOUTS = {
    "safety": "Safety",
    "tip": "Tip",
    "on-the-job": "On the job",
    "example": "Worked example",
    "note": "Note",
}
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp")
ID_SCHEMES = ("module:", "lesson:", "glossary:", "ref:")
SAFE_SCHEMES = ("http://", "https://", "mailto:")
_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-") or "section"


@dataclass(frozen=True)
class LinkContext:
    """What id-based links in one document may point at, and how to build their URLs."""

    module_id: str
    module_ids: frozenset[str]
    lessons: dict[str, frozenset[str]]  # module id -> lesson ids
    glossary: dict[str, str]  # term id -> definition
    references: dict[str, str]  # reference id -> citation text
    asset_names: frozenset[str]  # files under the module's folder, relative paths
    url_prefix: str = ""


@dataclass
class Rendered:
    html: str
    toc: list[tuple[int, str, str]] = field(default_factory=list)  # (level, anchor, text)
    text: str = ""  # plain text, for search and word counts
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line in body, message)
    callouts: set[str] = field(default_factory=set)


def _callout_renderer(kind: str):
    label = CALLOUTS[kind]

    def render(self, tokens, idx, options, env):
        token = tokens[idx]
        if token.nesting == 1:
            title = token.info.strip()[len(kind):].strip()
            heading = f"{label}: {title}" if title else label
            return (f'<aside class="callout callout-{kind}" role="note" aria-label="{escape(label)}">\n'
                    f'<p class="callout-title">{escape(heading)}</p>\n')
        return "</aside>\n"

    return render


def build_markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin).use(deflist_plugin)
    md.use(anchors_plugin, min_level=2, max_level=4, slug_func=slugify, permalink=False)
    default_fence = md.renderer.rules["fence"]
    default_code_block = md.renderer.rules["code_block"]

    def scrollable(rule):
        def render(self, tokens, idx, options, env):  # long lines scroll sideways: keep the box keyboard-reachable
            return rule(tokens, idx, options, env).replace("<pre>", '<pre tabindex="0">', 1)
        return render

    md.add_render_rule("fence", scrollable(default_fence))
    md.add_render_rule("code_block", scrollable(default_code_block))
    for kind in CALLOUTS:
        md.use(container_plugin, name=kind, render=_callout_renderer(kind))
    return md


_MD = build_markdown()


def _resolve(href: str, ctx: LinkContext, is_image: bool) -> tuple[str | None, str | None, dict[str, str]]:
    """Return (url, problem, extra attributes) for a link or image target."""
    prefix = ctx.url_prefix
    if is_image:
        if href.startswith(SAFE_SCHEMES[:2]):
            return None, "images must be files in the module folder, not remote URLs", {}
        path = href.removeprefix("./")
        if ".." in path.split("/") or href.startswith("/") or ":" in path:
            return None, f"unsafe image path {href!r}", {}
        if not path.lower().endswith(IMAGE_EXTENSIONS):
            return None, f"image {href!r} is not a png, jpg, gif or webp file", {}
        if path not in ctx.asset_names:
            return None, f"missing image {href!r}", {}
        return f"{prefix}/modules/{ctx.module_id}/assets/{quote(path)}", None, {}
    if href.startswith("#"):
        return href, None, {}
    if href.startswith(SAFE_SCHEMES):
        return href, None, {"rel": "noopener noreferrer"}
    if href.startswith("module:"):
        target = href[len("module:"):]
        if target not in ctx.module_ids:
            return None, f"link to unknown module {target!r}", {}
        return f"{prefix}/modules/{target}", None, {}
    if href.startswith("lesson:"):
        target = href[len("lesson:"):]
        module_id, _, lesson_id = target.rpartition("/")
        module_id = module_id or ctx.module_id
        if lesson_id not in ctx.lessons.get(module_id, ()):
            return None, f"link to unknown lesson {target!r}", {}
        return f"{prefix}/modules/{module_id}/{lesson_id}", None, {}
    if href.startswith("glossary:"):
        term = href[len("glossary:"):]
        if term not in ctx.glossary:
            return None, f"unknown glossary term {term!r} (add it to content/glossary.yaml)", {}
        return f"{prefix}/glossary#{term}", None, {"class": "glossary-term", "title": ctx.glossary[term]}
    if href.startswith("ref:"):
        ref = href[len("ref:"):]
        if ref not in ctx.references:
            return None, f"unknown reference {ref!r} (add it to the module's references)", {}
        return f"{prefix}/modules/{ctx.module_id}#ref-{ref}", None, {"class": "citation", "title": ctx.references[ref]}
    return None, f"unsupported link {href!r}: use module:, lesson:, glossary:, ref:, https: or mailto:", {}


def _walk(tokens: list[Token], ctx: LinkContext, out: Rendered, line_of: int) -> list[str]:
    """Rewrite links and images in place, collect problems and plain text."""
    words: list[str] = []
    for token in tokens:
        line = token.map[0] + 1 if token.map else line_of
        if token.type in ("table_open",):
            token.attrSet("tabindex", "0")  # wide tables scroll; keyboard users must be able to reach them
        if token.type in ("th_open", "td_open"):
            style = token.attrGet("style") or ""
            token.attrs.pop("style", None)  # inline styles are blocked by the CSP; use classes
            if "text-align:" in style:
                token.attrSet("class", "align-" + style.split(":", 1)[1].strip())
        elif token.type.startswith("container_") and token.type.endswith("_open"):
            out.callouts.add(token.type[len("container_"):-len("_open")])
        if token.type == "link_open" or token.type == "image":
            attr = "src" if token.type == "image" else "href"
            url, problem, extra = _resolve(str(token.attrGet(attr) or ""), ctx, token.type == "image")
            if problem:
                out.problems.append((line, problem))
                if token.type == "image":
                    token.type, token.tag, token.children = "text", "", None  # keep the alt text only
                    continue
                token.attrs.pop("href", None)
            else:
                token.attrSet(attr, url)
                for key, value in extra.items():
                    token.attrSet(key, value)
        if token.type in ("text", "code_inline") or token.type == "fence" or token.type == "code_block":
            words.append(token.content)
        if token.children:
            words.extend(_walk(token.children, ctx, out, line))
    return words


def render_markdown(source: str, ctx: LinkContext) -> Rendered:
    """Render one Markdown document to sanitized HTML with its table of contents and problems."""
    out = Rendered(html="")
    env: dict = {}
    tokens = _MD.parse(source, env)
    text_parts = _walk(tokens, ctx, out, 1)
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h1", "h2", "h3"):
            title = "".join(c.content for c in tokens[i + 1].children or [] if c.type in ("text", "code_inline"))
            if token.tag == "h1":
                out.problems.append(((token.map or [0])[0] + 1, "lessons start at ## headings; # is the page title"))
            out.toc.append((int(token.tag[1]), str(token.attrGet("id") or ""), title))
    for line_no, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith(":::") and stripped != ":::":
            kind = stripped[3:].strip().split(" ", 1)[0]
            if kind not in CALLOUTS:
                out.problems.append((line_no, f"unknown callout kind {kind!r}; use one of {', '.join(CALLOUTS)}"))
    out.html = sanitize_html(_MD.renderer.render(tokens, _MD.options, env))
    out.text = " ".join(text_parts)
    return out
