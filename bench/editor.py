"""Keystroke-to-paint in the issue editor at 30 KB and 175 KB, in headless Chromium.

    .venv/bin/python bench/editor.py [--keys 80] [--delay 60]

Two bodies are made from the archive (../shared/corpus/ffl/published, concatenated in
date order; generated paragraphs if the corpus is absent). For each, the editor page
is opened, the text scrolled to its middle, a line there clicked, and ``--keys``
characters typed with ``--delay`` ms between them (a fast typist: 60 ms is ~170 words a
minute). Each keystroke is timed from the keydown event's timestamp (so time spent
queued behind a busy main thread counts) to the first task after the next animation
frame, i.e. after the browser painted the keystroke. The Event Timing API's keydown
durations (rounded by Chromium to 8 ms) are printed alongside as a cross-check.

The baseline, measured in the same run on the same bodies: v0.1's textarea editor
(bench/editor_v01.js and .css, its highlight layer rebuilt on every input), served on
a page of the same origin so it talks to the same app.

Goal (editor issue): 175 KB / 30 KB median ratio <= 1.5 for the CodeMirror editor.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared/corpus/ffl/published"
PASSWORD = "bench password 1"
SIZES = {"30 KB": 30_000, "175 KB": 175_000}

MEASURE = """() => {
  window.__latency = [];
  window.__events = [];
  document.addEventListener("keydown", (event) => {
    const start = event.timeStamp;
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => window.__latency.push(performance.now() - start);
      channel.port2.postMessage(null);
    });
  }, true);
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (entry.name === "keydown") window.__events.push(entry.duration);
  }).observe({ type: "event", durationThreshold: 16, buffered: false });
}"""

V01_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<meta name="csrf-token" content="{csrf}">
<link rel="stylesheet" href="/static/admin/admin.css"><link rel="stylesheet" href="/bench-v01/editor.css">
</head><body><main class="page wide"><span id="save-state" class="save-state saved">Saved</span>
<span id="issue-status">draft</span><div id="editor-message" hidden></div>
<div class="editor-layout">
<form id="issue-form" class="card editor-form" data-autosave-url="/bench-v01/autosave"
  data-preview-url="/admin/issues/preview" data-issue-id="{issue_id}" data-revisions-url="#"
  data-editable="true" data-web-css="/static/public/public.css">
<input type="hidden" id="f-version" value="1">
<div class="editor-wrap"><div class="editor-backdrop" aria-hidden="true">
<div class="editor-highlights" id="editor-highlights"></div></div>
<textarea name="body" id="f-body">{body}</textarea></div></form>
<aside class="editor-side"><span id="placeholder-count"></span><ol id="placeholder-list"></ol>
<p id="placeholder-none"></p><ul id="problem-list"></ul><p id="problem-none"></p></aside>
<section class="card editor-preview"><div class="preview-tabs">
<button type="button" class="tab active" data-tab="email">Email</button>
<input type="checkbox" id="mobile-toggle"></div>
<div class="preview-pane" data-pane="email"><iframe id="preview-email" sandbox></iframe></div>
<div class="preview-pane" data-pane="web" hidden><iframe id="preview-web" sandbox></iframe></div>
<div class="preview-pane" data-pane="text" hidden><pre id="preview-text"></pre></div></section>
</div></main><script src="/bench-v01/editor.js"></script></body></html>"""


def make_body(size: int) -> str:
    files = sorted(CORPUS.glob("*.md")) if CORPUS.is_dir() else []
    parts: list[str] = []
    total = 0
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        if text.startswith("---"):
            text = text.split("---", 2)[-1]  # drop the front matter
        parts.append(text.strip() + "\n\n---\n\n")
        total += len(parts[-1])
        if total >= size:
            break
    n = 0
    while total < size:  # no corpus: generated sections
        n += 1
        parts.append(
            f"## Section {n}\n\nTODO: a paragraph with a [link](https://example.com/{n}) "
            + "and some words about it. " * 12
            + "\n\n"
        )
        total += len(parts[-1])
    return "".join(parts)[:size]


def html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def serve(body: str, content_type: str) -> Any:
    """A Playwright route handler answering with ``body``."""
    return lambda route: route.fulfill(body=body, content_type=content_type)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def type_and_measure(page: Any, target: str, keys: int, delay: int) -> dict[str, float]:
    """Click a line in the middle of the text and type; returns latency statistics."""
    page.evaluate(
        """(selector) => { const el = document.querySelector(selector);
        el.scrollTop = (el.scrollHeight - el.clientHeight) / 2; }""",
        target,
    )
    box = page.locator(target).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.keyboard.press("End")
    page.keyboard.type(" warm up", delay=delay)
    page.wait_for_timeout(1000)
    page.evaluate(MEASURE)
    text = ("the quick brown fox jumps over the lazy dog " * 4)[:keys]
    page.keyboard.type(text, delay=delay)
    page.wait_for_timeout(500)
    latency = page.evaluate("window.__latency")
    events = page.evaluate("window.__events")
    return {
        "median": statistics.median(latency),
        "p95": percentile(latency, 0.95),
        "max": max(latency),
        "n": len(latency),
        "events_over_16ms": len(events),
        "event_max": max(events, default=0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=80)
    parser.add_argument("--delay", type=int, default=60)
    args = parser.parse_args()

    import logging

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from app import create_app
    from app.auth.service import create_user
    from app.db import db
    from app.issues.models import Issue

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
                "SECRET_KEY": "bench",
                "MEDIA_URL": f"file://{tmp}/media",
                "TRANSPORT": f"outbox:{tmp}/outbox",
            }
        )
        with app.app_context():
            db.create_all()
            create_user("bench@example.com", PASSWORD, "editor", "Bench")
            ids = {}
            for label, size in SIZES.items():
                issue = Issue(
                    slug=f"bench-{size}",
                    title=f"Bench {label}",
                    subject="Bench",
                    body=make_body(size),
                    excluded_event_ids=[],
                )
                db.session.add(issue)
                db.session.commit()
                ids[label] = (issue.id, issue.body)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        base = f"http://127.0.0.1:{server.server_port}"
        app.config["BASE_URL"] = base
        threading.Thread(target=server.serve_forever, daemon=True).start()
        results: dict[tuple[str, str], dict[str, float]] = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.on("dialog", lambda dialog: dialog.accept())  # "leave page?" after typing
            page.goto(f"{base}/admin/login")
            page.fill("input[name=email]", "bench@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/admin/")
            # v0.1's files, served on the app's origin; its autosave answers without saving.
            for name, kind in (("editor.js", "application/javascript"), ("editor.css", "text/css")):
                page.route(
                    f"{base}/bench-v01/{name}", serve((HERE / f"editor_v01{Path(name).suffix}").read_text(), kind)
                )
            page.route(
                f"{base}/bench-v01/autosave",
                lambda route: route.fulfill(
                    json={"ok": True, "changed": False, "version": 1, "status": "draft", "slug": "x"}
                ),
            )
            for label, (issue_id, body) in ids.items():
                page.goto(f"{base}/admin/issues/{issue_id}")
                page.wait_for_selector(".cm-content")
                page.wait_for_timeout(1500)
                results[("CodeMirror", label)] = type_and_measure(page, ".cm-scroller", args.keys, args.delay)
                csrf = page.get_attribute('meta[name="csrf-token"]', "content")
                page.route(
                    f"{base}/bench-v01/page",
                    serve(V01_PAGE.format(csrf=csrf, issue_id=issue_id, body=html_escape(body)), "text/html"),
                )
                page.goto(f"{base}/bench-v01/page")
                page.wait_for_selector("#editor-highlights")
                page.wait_for_timeout(1500)
                results[("v0.1 textarea", label)] = type_and_measure(page, "#f-body", args.keys, args.delay)
                page.unroute(f"{base}/bench-v01/page")
            browser.close()
        server.shutdown()

    print(f"keystroke to paint, {args.keys} keys typed {args.delay} ms apart (ms)")
    print(f"{'editor':15} {'body':7} {'median':>7} {'p95':>7} {'max':>7}  keydown events >16 ms (max)")
    for (editor, label), r in results.items():
        print(
            f"{editor:15} {label:7} {r['median']:7.1f} {r['p95']:7.1f} {r['max']:7.1f}  "
            f"{r['events_over_16ms']:3d} of {r['n']} ({r['event_max']:.0f})"
        )
    for editor in ("CodeMirror", "v0.1 textarea"):
        small, large = results[(editor, "30 KB")], results[(editor, "175 KB")]
        print(
            f"{editor}: 175 KB / 30 KB median ratio {large['median'] / small['median']:.2f}"
            + ("  (goal <= 1.5)" if editor == "CodeMirror" else "")
        )
    old, new = results[("v0.1 textarea", "175 KB")], results[("CodeMirror", "175 KB")]
    print(f"at 175 KB, v0.1 / CodeMirror median: {old['median'] / new['median']:.1f}x")


if __name__ == "__main__":
    main()
