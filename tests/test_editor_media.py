"""The JSON endpoints behind the editor's images in place (upload with alt text, alt
text edit, picker search) and the pop-out preview window; the Markdown the editor
inserts resolves to the library item in preflight and in the preview."""

from __future__ import annotations

import io
import re

from PIL import Image

from app.db import db
from app.issues.models import Issue
from app.media.models import MediaItem
from app.media.service import site_markdown, upload
from tests.conftest import CORPUS, csrf_token_from, needs_corpus

ARCHIVE_PNG = CORPUS / "ffl/images/2018/09/gan-1536758013486.png"


def png_bytes(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def post_image(client, data: bytes, name: str = "GAN diagram.png", alt: str = "A GAN diagram", **headers):
    return client.post(
        "/admin/media.json",
        data={"file": (io.BytesIO(data), name), "alt_text": alt},
        content_type="multipart/form-data",
        headers={"Accept": "application/json", **headers},
    )


@needs_corpus
def test_upload_with_alt_text_returns_the_item_and_its_markdown(app, editor_client) -> None:
    response = post_image(editor_client, ARCHIVE_PNG.read_bytes(), alt="  A GAN   diagram ")
    assert response.status_code == 201
    item = response.get_json()
    stored = db.session.get(MediaItem, item["id"])
    assert stored.alt_text == "A GAN diagram" and (stored.width, stored.height) == (491, 271)
    assert re.fullmatch(r"images/\d{4}/\d{2}/gan-diagram-\d{13}\.png", item["path"])
    # No host or port in what the editor inserts: rendering resolves the site variable.
    assert item["markdown"] == f"![A GAN diagram]({{{{ site.github.url }}}}/{item['path']})"
    assert editor_client.get(f"/media/{item['path']}").status_code == 200


def test_upload_refusals_are_400_with_the_media_page_message(app, editor_client) -> None:
    cases = [
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "drawing.svg", "", "SVG images are not accepted"),
        (b"not an image at all", "notes.png", "", "not an image we accept"),
        (png_bytes(), "ok.png", "x" * 501, "under 500 characters"),
        (png_bytes(), "../escape.png", "", "Refused file name"),
    ]
    for data, name, alt, message in cases:
        response = post_image(editor_client, data, name=name, alt=alt)
        assert response.status_code == 400, name
        assert message in response.get_json()["error"], name
    missing = editor_client.post("/admin/media.json", data={}, content_type="multipart/form-data")
    assert missing.status_code == 400 and missing.get_json()["error"] == "Choose an image to upload."
    assert db.session.query(MediaItem).count() == 0  # a refused alt text stored no file either


def test_upload_needs_the_csrf_header(app, editor_client) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    refused = post_image(editor_client, png_bytes())
    assert refused.status_code == 400 and db.session.query(MediaItem).count() == 0
    token = csrf_token_from(editor_client.get("/admin/media").get_data(as_text=True))
    accepted = post_image(editor_client, png_bytes(), **{"X-CSRFToken": token})
    assert accepted.status_code == 201


def test_alt_text_json_sets_and_refuses(app, editor_client) -> None:
    item = upload("pick.png", png_bytes(), None)
    response = editor_client.post(f"/admin/media/{item.id}/alt.json", json={"alt_text": "Blue  box"})
    assert response.status_code == 200 and response.get_json()["markdown"].startswith("![Blue box](")
    assert db.session.get(MediaItem, item.id).alt_text == "Blue box"
    url = f"/admin/media/{item.id}/alt.json"
    assert editor_client.post(url, json={"alt_text": "y" * 501}).status_code == 400
    assert editor_client.post(url, json=["nope"]).status_code == 400
    assert editor_client.post("/admin/media/999999/alt.json", json={"alt_text": "z"}).status_code == 404
    assert db.session.get(MediaItem, item.id).alt_text == "Blue box"


def test_picker_search_and_limit(app, editor_client) -> None:
    for name in ("sunset.png", "harbour.png", "sunrise.png"):
        upload(name, png_bytes(), None)
    names = [i["name"] for i in editor_client.get("/admin/media.json?q=sun").get_json()]
    assert sorted(names) == ["sunrise.png", "sunset.png"]
    assert len(editor_client.get("/admin/media.json?limit=2").get_json()) == 2
    assert len(editor_client.get("/admin/media.json?limit=0").get_json()) == 1  # at least one
    assert len(editor_client.get("/admin/media.json?limit=abc").get_json()) == 3  # ignored, not a 500


def test_inserted_markdown_resolves_in_preflight_and_preview(app, editor_client) -> None:
    item = upload("chart.png", png_bytes(), None, alt_text="A chart")
    body = f"Intro.\n\n{site_markdown(item)}\n"
    issue = Issue(slug="img", title="Img", subject="Img", body=body, excluded_event_ids=[])
    db.session.add(issue)
    db.session.commit()
    result = editor_client.post("/admin/issues/preview", json={"body": body, "issue_id": issue.id}).get_json()
    assert not [p for p in result["problems"] if p["code"].startswith("image")], result["problems"]
    media_url = f"http://127.0.0.1:5000/media/{item.path}"
    assert f'src="{media_url}"' in result["email_html"] and 'alt="A chart"' in result["email_html"]
    assert item.path in result["web_html"]


def test_preview_window_shows_the_saved_version(app, editor_client) -> None:
    issue = Issue(
        slug="pop", title="Pop out", subject="Pop", body="## Saved heading\n\nSaved text.\n", excluded_event_ids=[]
    )
    db.session.add(issue)
    db.session.commit()
    page = editor_client.get(f"/admin/issues/{issue.id}/preview-window")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'sandbox="allow-same-origin"' in html and "srcdoc=" in html
    assert "Saved heading" in html and "<script" not in html.split("srcdoc=")[1].split('"')[1]
    assert 'src="/static/admin/editor/preview-window.js"' in html
    assert editor_client.get("/admin/issues/999999/preview-window").status_code == 404


def test_editor_page_keeps_the_form_field_and_loads_modules(app, editor_client) -> None:
    issue = Issue(slug="form", title="Form", subject="Form", body="Text with TODO\n", excluded_event_ids=[])
    db.session.add(issue)
    db.session.commit()
    html = editor_client.get(f"/admin/issues/{issue.id}").get_data(as_text=True)
    assert re.search(r'<textarea name="body" id="f-body"[^>]*>Text with TODO\n</textarea>', html)
    assert '<label for="f-body" id="body-label">Markdown</label>' in html
    assert '<script type="module" src="/static/admin/editor/main.js"></script>' in html
    assert 'role="toolbar"' in html and 'data-command="bold"' in html
    # The phone toggle is no longer a checkbox inside the tablist.
    tablist = html.split('role="tablist"')[1].split("</div>")[0]
    assert "checkbox" not in tablist
