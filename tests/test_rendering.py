"""Markdown conventions, sanitising, the email/text/web renderings and the
whole published archive."""

from __future__ import annotations

import re

import pytest
from lxml import html as lxml_html

from app.rendering import email as email_module
from app.rendering.context import EventView, ImageRef, RenderContext
from app.rendering.email_styles import IMAGE_MAX_WIDTH
from app.rendering.events_section import insert_events
from app.rendering.markdown import render_markdown
from app.rendering.render import render_issue
from app.tokens import issue_view_key
from tests.conftest import needs_corpus
from tests.support.rendering import PUBLISHED, SEED, corpus_issue, make_issue, parse, preflight, render

BASE = "http://127.0.0.1:5000"
# Properties Gmail, Outlook and Apple Mail support per caniemail.com, or that
# degrade gracefully (see test_rendering_css.py, which runs caniemail's data).
SUPPORTED_CSS = {
    "background-color",
    "border",
    "border-collapse",
    "border-left",
    "border-top",
    "color",
    "display",
    "font-family",
    "font-size",
    "font-weight",
    "height",
    "line-height",
    "margin",
    "max-height",
    "max-width",
    "mso-hide",
    "overflow",
    "padding",
    "padding-left",
    "text-align",
    "text-decoration",
    "white-space",
    "width",
    "word-wrap",
    "overflow-wrap",
}


@pytest.mark.parametrize(
    "variable",
    [
        "{{ site.github.url }}",
        "{{site.github.url}}",
        "{{ site.github.url}}",
        "{{site.github.url }}",
        "{{site.url}}",
        "{{ site.baseurl }}",
    ],
)
def test_site_variables_become_the_base_url(variable: str) -> None:
    out = render_markdown(f"![x]({variable}/images/a.png) [l]({variable}/b)", BASE)
    assert f'src="{BASE}/images/a.png"' in out
    assert f'href="{BASE}/b"' in out
    assert "site." not in out


def test_caption_under_image_becomes_figure() -> None:
    out = render_markdown("![](/images/a.png)\n\n##### A [caption](https://x.example/)\n\nNext", BASE)
    assert re.search(
        r"<figure><img [^>]*><figcaption>A <a href=\"https://x.example/\">caption</a>"
        r"</figcaption></figure>",
        out,
    )
    assert "<h5>" not in out
    # A ##### heading that does not follow an image stays a heading.
    assert "<h5>Alone</h5>" in render_markdown("Text\n\n##### Alone", BASE)


def test_sections_quotes_zero_width_footnotes_tables() -> None:
    source = (
        "Intro\n\n---\n\nIt’s “quoted”\n\nMachine learning for \u200bsurgical wo\u200brk\n\n"
        "\u200b\t\t\t\t- James Fowler\n\nA note[^1] and a [ref][r].\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "```python\nx = 1\n```\n\n[^1]: The note.\n[r]: https://example.com/\n"
    )
    out = render_markdown(source, BASE)
    assert "<hr>" in out
    assert "It’s “quoted”" in out
    assert "surgical work" in out and "\u200b" not in out
    assert "<pre>" in out and "James Fowler" in out and "<code>- James" not in out
    assert 'class="footnote"' in out and "The note." in out
    assert '<a href="https://example.com/">ref</a>' in out
    assert "<table>" in out and "<code" in out
    # "---" right under text is a section rule here, not a setext heading underline.
    assert render_markdown("Text\n---\nMore", BASE) == "<p>Text</p>\n<hr>\n<p>More</p>"


def test_raw_html_is_sanitised() -> None:
    source = (
        '<script>alert(1)</script><p onclick="x()">hi</p><a href="javascript:alert(1)">j</a>'
        '<img src="data:image/png;base64,xx" onerror="y()">[m](javascript:alert(2))'
        '<iframe src="https://evil.example/"></iframe><style>body{}</style>'
    )
    out = render_markdown(source, BASE)
    lowered = out.lower()
    forbidden_parts = ("<script", "onclick", "onerror", "javascript:", "data:", "<iframe", "<style", "alert(1)")
    for forbidden in forbidden_parts:
        assert forbidden not in lowered
    assert "hi" in out


def test_events_marker_and_sign_off_placement() -> None:
    events = "## Upcoming events\n\n* Meetup"
    assert insert_events("A\n\n[[events]]\n\nB", events) == f"A\n\n\n{events}\n\n\nB"
    assert insert_events("A\n\n[[events]]\n\nB", "") == "A\n\n\n\nB"
    signed = "## News\n\n* item\n\nThanks for reading!\n\nThe Team\n\n[1]: https://x.example/\n"
    out = insert_events(signed, events)
    assert out.index("* item") < out.index("## Upcoming") < out.index("Thanks for reading")
    ruled = "## News\n\nLong " + "x" * 400 + "\n\n---\n\nBye,\n\nThe Team\n"
    out = insert_events(ruled, events)
    assert out.index("xxx") < out.index("## Upcoming") < out.rindex("---") < out.index("Bye,")
    assert insert_events("* a\n* b\n", events).endswith(events + "\n")


def test_email_layout_and_parts(app) -> None:
    from app.settings import set_setting

    set_setting("postal_address", "1 Main St, Springfield")
    issue = make_issue(
        "Hello [there](/path) and [a note](#fn).\n\n![Alt text](https://cdn.example/a.png)\n\n"
        "## Heading\n\n* point\n\n[^1] done\n\n[^1]: Foot.\n",
        preheader="Sneak peek",
    )
    rendered = render(issue)
    doc = parse(rendered.filled("email", {"unsubscribe": f"{BASE}/unsubscribe/t"}, html=True))
    assert rendered.email_html.lower().startswith("<!doctype html>")
    assert doc.xpath("//meta[@name='color-scheme']/@content") == ["light dark"]
    column = doc.xpath("//table[@width='660']")
    assert column and "width:660px" in column[0].get("style").replace(" ", "")
    body_text = doc.text_content()
    assert "Pressroom Newsletter" in body_text and "1 Main St, Springfield" in body_text
    assert "Sneak peek" in body_text and "because you subscribed" in body_text
    hidden = doc.xpath("//body/div[1]")[0]
    assert "display:none" in hidden.get("style") and "Sneak peek" in hidden.text_content()
    hrefs = doc.xpath("//a/@href")
    # The browser link carries the key that opens an issue sent only to private lists.
    assert f"{BASE}/issues/test-issue?k={issue_view_key('test-issue')}" in hrefs
    assert f"{BASE}/path" in hrefs
    assert f"{BASE}/unsubscribe/t" in hrefs
    assert all(h.startswith(("https://", "http://", "mailto:")) for h in hrefs), hrefs
    web = f"{BASE}/issues/test-issue?k={issue_view_key('test-issue')}"
    assert rendered.links[:2] == (f"{BASE}/path", f"{web}#fn")  # per-reader slots, in order
    image = doc.xpath("//img")[0]
    assert image.get("alt") == "Alt text" and image.get("width") is None  # size unknown: no width
    assert "max-width:100%" in image.get("style") and "height:auto" in image.get("style")
    # text part
    text = rendered.text
    assert "## Heading" in text and "* point" in text
    assert "there [1]" in text and f"[1] {rendered.slot('l0')}" in text
    assert "[Alt text]" in text and "Foot." in text
    assert text.rstrip().endswith(rendered.unsubscribe_slot)
    # web version keeps in-page footnote links and figure markup
    assert 'href="#fn"' in rendered.web_html


def test_library_images_use_email_copy_and_alt(app) -> None:
    ref = ImageRef(
        url=f"{BASE}/media/images/a.png",
        email_url=f"{BASE}/media/images/a-email.png",
        width=1200,
        height=600,
        alt_text="Library alt",
    )
    context = RenderContext(base_url=BASE, resolve_image=lambda src: ref if src.endswith("/a.png") else None)
    body = (
        '![]({{ site.github.url }}/images/a.png)\n\n![](images/small.png){: width="200"}\n\n'
        '![](https://elsewhere.example/unknown.png)\n\n<img src="/images/odd.png" width="²">'
    )
    rendered = render_issue(make_issue(body), context)
    images = parse(rendered.email_html).xpath("//img")
    assert images[0].get("src") == ref.email_url and images[0].get("alt") == "Library alt"
    assert images[0].get("width") == str(IMAGE_MAX_WIDTH)
    assert images[1].get("src") == f"{BASE}/images/small.png" and images[1].get("width") == "200"
    assert images[1].get("alt") == ""
    # Unknown sizes get no width attribute (the column can still shrink on a phone),
    # and a width that is no ASCII number is no width at all.
    assert images[2].get("width") is None and images[3].get("width") is None
    web = lxml_html.fragment_fromstring(rendered.web_html, create_parent="div").xpath("//img")
    assert web[0].get("src") == ref.url and web[0].get("width") == "1200"


def test_render_once_cache(app, monkeypatch) -> None:
    issue = make_issue("Cached body")
    first = render(issue)
    monkeypatch.setattr(email_module, "inline_css", lambda document: pytest.fail("rendered twice"))
    assert render(issue) is first
    issue.body = "Changed body"
    with pytest.raises(pytest.fail.Exception):
        render(issue)


def test_test_banner(app) -> None:
    issue = make_issue("Body")
    assert "Test send" in render(issue, test_banner=True).email_html
    assert "Test send" not in render(issue).email_html


def test_inliner_writes_only_valid_attributes(app) -> None:
    """Every variant of the chrome (test banner, logo masthead, brand footer) and a
    body with a sized image and a table; and premailer's height="auto" is dropped."""
    from app.rendering.context import Brand

    body = "![Chart](https://cdn.example/c.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    branded = RenderContext(
        base_url="https://news.example.org",
        brand=Brand(newsletter_name="FFL", logo_url="https://news.example.org/logo.png", footer_text="Thanks."),
    )
    for email_html in (
        render(make_issue(body), test_banner=True).email_html,
        render_issue(make_issue(body), branded).email_html,
    ):
        doc = parse(email_html)
        _assert_valid_attributes("chrome", doc)
        _assert_preheader_plainly_hidden("chrome", doc)
        _assert_no_tiny_font("chrome", doc)
    inlined = email_module.inline_css(
        "<html><head><style>img.x{height:auto;width:50%} td.y{width:600px;height:100%}</style></head>"
        '<body><table><tr><td class="y"><img class="x" src="a.png" alt=""></td></tr></table></body></html>'
    )
    doc = parse(inlined)
    assert doc.xpath("//img")[0].get("height") is None and doc.xpath("//img")[0].get("width") is None
    assert doc.xpath("//td")[0].get("width") == "600" and doc.xpath("//td")[0].get("height") == "100%"
    _assert_valid_attributes("inlined", doc)


# Presentational attributes an email may carry and where HTML defines them (HTML 4's
# transitional set, which mail clients honour); sizes are pixels, or a percentage on
# tables and cells. premailer writes these from CSS, so "height:auto" once became
# height="auto".
_ATTRIBUTE_HOMES = {
    "bgcolor": {"body", "table", "tr", "td", "th"},
    "valign": {"tr", "td", "th", "tbody", "thead", "tfoot"},
    "align": {"table", "tr", "td", "th", "div", "p", "h1", "h2", "h3", "h4", "h5", "h6", "img", "caption", "hr"},
}
_ALIGN = {"align": {"left", "right", "center", "justify"}, "valign": {"top", "middle", "bottom", "baseline"}}


def _assert_valid_attributes(name: str, doc) -> None:
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute in ("width", "height"):
            value = element.get(attribute)
            if value is not None:
                percent = element.tag in {"table", "td", "th"} and value.endswith("%")
                assert (value[:-1] if percent else value).isdigit(), (name, element.tag, attribute, value)
        for attribute, homes in _ATTRIBUTE_HOMES.items():
            value = element.get(attribute)
            if value is None:
                continue
            assert element.tag in homes, (name, element.tag, attribute)
            if attribute == "bgcolor":
                assert re.fullmatch(r"#[0-9a-fA-F]{6}", value), (name, value)
            else:
                assert value.lower() in _ALIGN[attribute], (name, attribute, value)


def _assert_preheader_plainly_hidden(name: str, doc) -> None:
    """display:none alone: a tiny font or a colour is what spam filters call invisible text."""
    style = doc.xpath("//body/div[1]")[0].get("style").replace(" ", "").lower()
    assert "display:none" in style, name
    assert "font-size" not in style and "color" not in style and "opacity" not in style, (name, style)


def _assert_no_tiny_font(name: str, doc) -> None:
    """No 1-4px font anywhere (SpamAssassin's tiny-font subrules); 0 hides a spacer's &nbsp;."""
    for style in doc.xpath("//@style"):
        for size in re.findall(r"font-size\s*:\s*([\d.]+)", style):
            assert float(size) == 0 or float(size) >= 5, (name, style)


def _assert_email_sound(name: str, email_html: str, problems: list) -> None:
    size = len(email_html.encode())
    assert size <= 102 * 1024 or any(p.code == "email-too-large" for p in problems), name
    doc = parse(email_html)
    assert not doc.xpath("//script") and "<script" not in email_html.lower(), name
    _assert_valid_attributes(name, doc)
    _assert_preheader_plainly_hidden(name, doc)
    _assert_no_tiny_font(name, doc)
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        assert not any(attr.lower().startswith("on") for attr in element.attrib), name
    # Styles are inlined: the only <style> left holds @media rules, and the
    # layout elements carry their own style attribute.
    for style in doc.xpath("//style"):
        assert style.text.strip().startswith("@media"), name
    for element in doc.xpath("//td[@class] | //table | //p | //h1 | //h2 | //h3 | //a | //li | //img"):
        assert element.get("style"), (name, element.tag)
        for declaration in element.get("style").split(";"):
            if declaration.strip():
                assert declaration.split(":")[0].strip().lower() in SUPPORTED_CSS, (name, declaration)
    for image in doc.xpath("//img"):
        assert image.get("alt") is not None, name
        assert image.get("width") is None or int(image.get("width")) <= 660, name
    for url in doc.xpath("//a/@href | //img/@src"):
        assert url.startswith(("https://", "http://", "mailto:")), (name, url)


@needs_corpus
def test_whole_archive_renders(app) -> None:
    files = sorted(PUBLISHED.glob("*.md")) + [SEED / "000_ee80896a50666d2e.txt"]
    assert len(files) == 237
    for path in files:
        issue = corpus_issue(path)
        rendered = render(issue)
        problems = preflight(issue)  # the size check reuses the cached render
        filled = rendered.filled("email", {"unsubscribe": f"{BASE}/unsubscribe/t"}, html=True)
        _assert_email_sound(path.name, filled, problems)
        assert "<script" not in rendered.web_html.lower(), path.name
        assert rendered.text.strip() and rendered.unsubscribe_slot in rendered.text, path.name


def test_events_section_is_rendered_in_place(app) -> None:
    events = (EventView(title="Meetup", url="https://events.example/1", when="Tue 12 May 2026, 18:00 UTC"),)
    context = RenderContext(base_url=BASE, events=events)
    rendered = render_issue(make_issue("Intro\n\n[[events]]\n\n## Story\n\nText\n\nThanks,\n\nThe Team\n"), context)
    web = rendered.web_html
    assert web.index("Intro") < web.index("Upcoming events") < web.index("Story")
    assert "[[events]]" not in web and '<a href="https://events.example/1">Meetup</a>' in web
    assert "## Upcoming events" in rendered.text
    signed = render_issue(make_issue("## Story\n\n* one\n\nThanks,\n\nThe Team\n"), context).web_html
    assert signed.index("one") < signed.index("Upcoming events") < signed.index("Thanks,")
    assert "[[events]]" not in render_issue(make_issue("A\n\n[[events]]\n\nB"), RenderContext(base_url=BASE)).web_html
    # An imported archive issue keeps exactly its content: no section without a marker.
    archived = RenderContext(base_url=BASE, events=events, auto_events=False)
    assert "Upcoming events" not in render_issue(make_issue("## Story\n\nThanks,\n"), archived).web_html
    assert "Upcoming events" in render_issue(make_issue("A\n\n[[events]]\n\nB"), archived).web_html


def test_text_part_lists_and_footnotes() -> None:
    from app.rendering.text import html_to_text

    source = (
        "Para with [a](https://a.example/) and [again](https://a.example/).\n\n1. one\n2. two\n"
        "    * nested\n\n* x\n* y\n\n> quoted\n\nNote[^1].\n\n[^1]: Foot [b](https://b.example/).\n"
    )
    text, links = html_to_text(render_markdown(source, BASE))
    assert links == ["https://a.example/", "https://b.example/"]
    assert "Para with a [1] and again [1]." in text
    assert "1. one\n2. two\n  * nested\n\n* x\n* y" in text
    assert "> quoted" in text and "Note[^1]." in text and "[^1] Foot b [2]." in text
    assert "↩" not in text


def test_preheader_falls_back_to_opening_prose(app) -> None:
    """The inbox preview shows what the issue is about: the greeting ("Hello all,
    welcome.") and an image caption are left out."""
    body = (
        "## Title\n\n![](https://cdn.example/a.png)\n\n##### A caption\n\n"
        "Hello [all](https://x.example/), welcome. This week: [models](https://x.example/m) that " + "word " * 40
    )
    rendered = render(make_issue(body, preheader=""))
    assert rendered.preheader.startswith("This week: models that word") and len(rendered.preheader) <= 140
    assert rendered.preheader.endswith("word\u2026")
    hidden = parse(rendered.email_html).xpath("//body/div[1]")[0]
    assert hidden.text_content().startswith("This week: models that")
    greeted = make_issue("Hi all,\n\nDear readers, the news.", preheader="")
    assert render(greeted).preheader == "The news."
    assert render(make_issue("Body", preheader="Given")).preheader == "Given"


@needs_corpus
def test_cache_key_sees_archive_style_images(app) -> None:
    """``{{ site.github.url }}`` holds spaces: the key must still see the image,
    so importing it and setting its alt text changes the next render."""
    from app.media.service import import_file, set_alt_text

    issue = make_issue("![]({{ site.github.url }}/images/2018/09/gan-1536758013486.png)")
    before = parse(render(issue).email_html).xpath("//img")[0]
    assert not before.get("alt")
    item = import_file(
        "images/2018/09/gan-1536758013486.png", (SEED.parent / "ffl/images/2018/09/gan-1536758013486.png").read_bytes()
    )
    set_alt_text(item, "A generated face")
    after = parse(render(issue).email_html).xpath("//img")[0]
    assert after.get("alt") == "A generated face"
    assert after.get("width") and after.get("src") != before.get("src")
