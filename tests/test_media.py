"""Media library: validation by content, safe keys, both storages, serving,
usages, deletion and the lookup rendering uses."""

from __future__ import annotations

import io
import re

import boto3
import pytest
from PIL import Image

from app.db import db
from app.issues.media_usage import delete_media, issues_using
from app.issues.models import Issue
from app.media.lookup import resolve_image
from app.media.models import MediaItem
from app.media.service import MediaError, MediaInUse, import_file, upload
from app.media.storage import LocalStorage, S3Storage, StorageError, get_storage
from tests.conftest import CORPUS, another_app, needs_corpus

ARCHIVE_PNG = CORPUS / "ffl/images/2018/09/gan-1536758013486.png"
BUCKET = "pressroom-media-test"


def png_bytes(width: int = 40, height: int = 30, fmt: str = "PNG", **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format=fmt, **save)
    return out.getvalue()


@pytest.fixture(params=["local", "s3"])
def storage_kind(request, app_config, tmp_path):
    """Run a test against the local folder and against S3 on moto server."""
    if request.param == "s3":
        request.getfixturevalue("aws")
        app_config["MEDIA_URL"] = f"s3://{BUCKET}/media"
    return request.param


@pytest.fixture
def media_app(storage_kind, app):
    if storage_kind == "s3":
        boto3.client("s3").create_bucket(Bucket=BUCKET)
    return app


def stored_keys(app) -> list[str]:
    storage = get_storage()
    if isinstance(storage, LocalStorage):
        return sorted(str(p.relative_to(storage.root)) for p in storage.root.rglob("*") if p.is_file())
    listing = storage.client.list_objects_v2(Bucket=storage.bucket)
    return sorted(obj["Key"] for obj in listing.get("Contents", []))


@needs_corpus
def test_real_archive_png_is_accepted_and_served(media_app, client):
    data = ARCHIVE_PNG.read_bytes()
    item = upload("GAN diagram.png", data, None)
    assert item.path.startswith("images/") and item.path.endswith(".png")
    parts = item.path.split("/")
    assert len(parts) == 4 and re.fullmatch(r"gan-diagram-\d{13}\.png", parts[3])
    with Image.open(ARCHIVE_PNG) as original:
        assert (item.width, item.height) == original.size
    assert get_storage().get(item.path) == data
    response = client.get(f"/media/{item.path}")
    if isinstance(get_storage(), S3Storage):
        # Public reads are the bucket's (or CDN's) business: a bucket policy, not object ACLs.
        assert response.status_code == 302 and response.location == get_storage().public_url(item.path)
    else:
        assert response.status_code == 200 and response.data == data and response.mimetype == "image/png"


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        ("notes.png", b"just some text, not an image\n" * 10, "not an image"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "SVG"),
        ("logo.png", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
        ("../../etc/passwd", None, "file name"),
        ("..\\evil.png", None, "file name"),
        ("huge.png", "pixels", "megapixels"),
        ("big.bmp", "bmp", "not accepted"),
    ],
)
def test_refused_uploads_write_nothing(media_app, name, payload, message):
    if payload is None:
        payload = png_bytes()
    elif payload == "pixels":
        media_app.config["MEDIA_MAX_PIXELS"] = 1_000_000
        payload = png_bytes(1200, 1000)  # 1.2 MP, tiny on disk
    elif payload == "bmp":
        payload = png_bytes(fmt="BMP")
    with pytest.raises(MediaError, match=message):
        upload(name, payload, None)
    assert db.session.query(MediaItem).count() == 0
    assert stored_keys(media_app) == []


def test_decompression_bomb_and_oversize_file_refused(media_app):
    # An 8000x8000 PNG (64 MP) compresses to a few hundred KB: refused from the header.
    out = io.BytesIO()
    Image.new("1", (8000, 8000)).save(out, format="PNG")
    with pytest.raises(MediaError, match="megapixels"):
        upload("bomb.png", out.getvalue(), None)
    media_app.config["MEDIA_MAX_BYTES"] = 1000
    with pytest.raises(MediaError, match="MB"):
        upload("big.png", png_bytes(200, 200, compress_level=0), None)
    assert db.session.query(MediaItem).count() == 0 and stored_keys(media_app) == []


def test_admin_upload_page_refuses_with_message(app, admin_client):
    response = admin_client.post(
        "/admin/media/upload",
        data={"files": [(io.BytesIO(b"plain text"), "fake.png")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "not an image" in response.get_data(as_text=True)
    assert db.session.query(MediaItem).count() == 0


@needs_corpus
def test_admin_upload_several_and_grid(app, admin_client):
    response = admin_client.post(
        "/admin/media/upload",
        data={"files": [(io.BytesIO(ARCHIVE_PNG.read_bytes()), "gan.png"), (io.BytesIO(png_bytes()), "red dot.png")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert db.session.query(MediaItem).count() == 2
    html = admin_client.get("/admin/media").get_data(as_text=True)
    assert "![](http://127.0.0.1:5000/media/images/" in html
    assert "40×30 px" in html
    html = admin_client.get("/admin/media?q=red-dot").get_data(as_text=True)
    assert "red-dot-" in html and "gan-" not in html


def test_no_overwrite_same_name_gets_new_key(app):
    first = upload("same.png", png_bytes(), None)
    second = upload("same.png", png_bytes(10, 10), None)
    assert first.path != second.path
    assert get_storage().get(first.path) == png_bytes()


def test_gps_is_stripped_orientation_kept(app):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° on display
    exif[0x010F] = "TestCam"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (52.0, 31.0, 12.0)
    out = io.BytesIO()
    Image.new("RGB", (60, 20), "blue").save(out, format="JPEG", exif=exif)
    assert 0x8825 in Image.open(io.BytesIO(out.getvalue())).getexif()
    item = upload("holiday.jpg", out.getvalue(), None)
    stored = Image.open(io.BytesIO(get_storage().get(item.path)))
    stored_exif = stored.getexif()
    assert 0x8825 not in stored_exif and not stored_exif.get_ifd(0x8825)
    assert stored_exif[0x0112] == 6 and stored_exif[0x010F] == "TestCam"
    assert (item.width, item.height) == (20, 60)  # as displayed


def test_wide_image_gets_email_copy_and_lookup(app):
    item = upload("wide.jpg", png_bytes(2000, 500, fmt="JPEG"), None)
    item.alt_text = "A wide banner"
    db.session.commit()
    assert item.email_path and item.email_path != item.path
    copy = Image.open(io.BytesIO(get_storage().get(item.email_path)))
    assert copy.size == (1320, 330)
    base = app.config["BASE_URL"]
    for src in (
        f"{base}/images/{item.path[7:]}",
        f"/{item.path}",
        item.path,
        f"{{{{ site.github.url }}}}/{item.path}",
        f"{{{{site.github.url}}}}/{item.path}",
        get_storage().public_url(item.path),
    ):
        ref = resolve_image(src)
        assert ref is not None, src
        assert ref.url == f"{base}/media/{item.path}"
        assert ref.email_url == f"{base}/media/{item.email_path}"
        assert (ref.width, ref.height, ref.alt_text) == (1320, 330, "A wide banner")
    assert resolve_image("https://elsewhere.example/images/x.png") is None
    assert resolve_image("/images/unknown.png") is None
    small = upload("small.png", png_bytes(), None)
    ref = resolve_image(small.path)
    assert ref.email_url == ref.url and (ref.width, ref.height) == (40, 30)


@needs_corpus
def test_import_file_keeps_archive_path_idempotent_and_serves_images_url(app, client):
    data = ARCHIVE_PNG.read_bytes()
    item = import_file("images/2018/09/gan-1536758013486.png", data)
    again = import_file("/images/2018/09/gan-1536758013486.png", data)
    assert again.id == item.id and db.session.query(MediaItem).count() == 1
    assert item.path == "images/2018/09/gan-1536758013486.png"
    response = client.get("/images/2018/09/gan-1536758013486.png")
    assert response.status_code == 200 and response.data == data
    assert resolve_image("{{ site.github.url }}/images/2018/09/gan-1536758013486.png").url.endswith(item.path)
    with pytest.raises(MediaError):
        import_file("images/../../etc/passwd", data)


def test_every_archive_image_imports(app):
    images = CORPUS / "ffl/images"
    files = [p for p in images.rglob("*") if p.is_file()]
    for path in files:
        import_file(str(path.relative_to(images.parent)), path.read_bytes())
    assert db.session.query(MediaItem).count() == len(files)


def test_serving_refuses_traversal_and_non_images(app, client):
    for url in (
        "/media/../secret_key",
        "/media/images/%2e%2e/%2e%2e/secret_key",
        "/media/.hidden.png",
        "/images/..%2f..%2fsecret_key",
        "/media/images/x.txt",
    ):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("key", ["../x.png", "/abs.png", "images/../../x.png", "images//x.png", "a\\b.png", ""])
def test_storage_rejects_bad_keys(media_app, key):
    with pytest.raises(StorageError):
        get_storage().put(key, b"x", "image/png")


def test_storage_roundtrip(media_app):
    storage = get_storage()
    storage.put("images/2026/01/a-1.png", b"abc", "image/png")
    assert storage.exists("images/2026/01/a-1.png") and storage.get("images/2026/01/a-1.png") == b"abc"
    storage.delete("images/2026/01/a-1.png")
    assert not storage.exists("images/2026/01/a-1.png")
    with pytest.raises(KeyError):
        storage.get("images/2026/01/a-1.png")


def test_s3_public_url_uses_configured_base(app_config, aws):
    app_config["MEDIA_URL"] = f"s3://{BUCKET}/prefix"
    app_config["MEDIA_PUBLIC_URL"] = "https://cdn.example.com/prefix"
    with another_app(app_config):
        assert get_storage().public_url("images/a.png") == "https://cdn.example.com/prefix/images/a.png"


def test_usages_and_delete_confirmation(app, admin_client):
    item = upload("used.png", png_bytes(), None)
    path = item.path
    issue = Issue(slug="uses-it", title="Uses it", body=f"![x]({{{{ site.github.url }}}}/{item.path})")
    other = Issue(slug="other", title="Other", body="no images")
    db.session.add_all([issue, other])
    db.session.commit()
    assert [i.slug for i in issues_using(item)] == ["uses-it"]
    html = admin_client.get("/admin/media").get_data(as_text=True)
    assert "Uses it" in html
    with pytest.raises(MediaInUse, match="Uses it"):
        delete_media(item)
    response = admin_client.post(f"/admin/media/{item.id}/delete")
    assert response.status_code == 409 and "Uses it" in response.get_data(as_text=True)
    assert get_storage().exists(item.path)
    response = admin_client.post(f"/admin/media/{item.id}/delete", data={"confirm_issue": [str(issue.id)]})
    assert response.status_code == 302
    assert db.session.query(MediaItem).count() == 0 and not get_storage().exists(path)


def test_an_image_in_an_approved_email_cannot_be_deleted(app, admin_client):
    """Readers get what was approved: the frozen email points at this file."""
    item = upload("frozen.png", png_bytes(), None)
    issue = Issue(
        slug="approved", title="Approved one", status="approved", body=f"![x]({{{{ site.github.url }}}}/{item.path})"
    )
    db.session.add(issue)
    db.session.commit()
    response = admin_client.post(f"/admin/media/{item.id}/delete", data={"confirm_issue": [str(issue.id)]})
    assert response.status_code == 409 and "approved email" in response.get_data(as_text=True)
    assert get_storage().exists(item.path)


def test_alt_text_edit(app, admin_client):
    item = upload("alt.png", png_bytes(), None)
    response = admin_client.post(f"/admin/media/{item.id}/alt", data={"alt_text": "  A red  square "})
    assert response.status_code == 302
    assert db.session.get(MediaItem, item.id).alt_text == "A red square"
    assert "![A red square](" in admin_client.get("/admin/media").get_data(as_text=True)


def test_media_json_for_editor(app, editor_client):
    upload("pick.png", png_bytes(), None)
    data = editor_client.get("/admin/media.json").get_json()
    assert len(data) == 1 and data[0]["snippet"].startswith("![](") and data[0]["width"] == 40


def test_phone_mpo_jpeg_accepted_as_jpeg(app):
    out = io.BytesIO()
    frames = [Image.new("RGB", (30, 20), "green"), Image.new("RGB", (30, 20), "blue")]
    frames[0].save(out, format="MPO", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    item = upload("IMG_0001.JPG", out.getvalue(), None)
    assert item.path.endswith(".jpg") and item.content_type == "image/jpeg"
    assert (item.width, item.height) == (30, 20)


def test_gps_in_xmp_is_dropped(app):
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="52,31.2N"/>'
        b"</rdf:RDF></x:xmpmeta>"
    )
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(out, format="JPEG", xmp=xmp)
    assert b"GPSLatitude" in out.getvalue()
    item = upload("xmp.jpg", out.getvalue(), None)
    assert b"GPSLatitude" not in get_storage().get(item.path)
