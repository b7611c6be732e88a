"""What the demo loaded before it shipped its own sample: the latest slice of
the real newsletter archive (``../shared/corpus``) as sent issues with their
images, and the real seed draft with its TODO placeholders. Browser tests that
are about that real content use it; they skip when the corpus is absent."""

from __future__ import annotations

from app.db import db
from app.issues.jekyll_import import import_jekyll
from app.subscribers.lists import find_list
from tests.conftest import CORPUS

ARCHIVE_SLICE = 12


def load_corpus_demo() -> None:
    images = CORPUS / "ffl" / "images"
    files = sorted((CORPUS / "ffl" / "published").glob("*.md"))[-ARCHIVE_SLICE:]
    import_jekyll([(p.name, p) for p in files], images_dir=images)
    public = find_list("public")
    if public is not None:
        public.public = True
        db.session.commit()
    seed = sorted((CORPUS / "seed").glob("*.txt"))[0]
    # The seed is a real draft of 2018-09-12-client.md, kept as a draft of its own.
    import_jekyll([("2018-09-12-client.md", seed.read_bytes())], status="draft", images_dir=images)
