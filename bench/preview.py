"""The editor's preview request on pathological input (issue 13, class 5).

Each case is posted to ``/admin/issues/preview`` (render + preflight +
placeholders, what the editor asks for on every pause in typing) at two sizes;
printed: milliseconds, and the ratio to a plain paragraph of the same size
measured in the same run (the machine is noisy; ratios are what to compare).
Linear work doubles when the input doubles; the goal is well under a second.

    .venv/bin/python bench/preview.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.db import db  # noqa: E402

CASES = {
    "plain paragraph": lambda n: "word " * (n // 5),
    "[ repeated": lambda n: "[" * n,
    "![ repeated": lambda n: "![" * (n // 2),
    "*a repeated": lambda n: "*a" * (n // 2),
    "< repeated": lambda n: "<" * n,
    "[x]( repeated": lambda n: "[x](" * (n // 4),
    "> nesting": lambda n: "> " * (n // 2) + "end",
    "* nesting": lambda n: "* " * (n // 2) + "end",
    "one long line": lambda n: "a" * n,
    "TODO repeated": lambda n: "TODO " * (n // 5),
    "backticks": lambda n: "`" * n,
    "[^ footnotes": lambda n: "[^" * (n // 2),
}


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
            "SECRET_KEY": "bench",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "MEDIA_URL": f"file://{folder / 'media'}",
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        from app.auth.service import create_user, start_session

        upgrade()
        user = create_user("bench@example.com", "bench password 1", "editor")
        start_session(user)
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
        results: dict[str, list[float]] = {}
        for size in (8192, 16384):
            for name, make in CASES.items():
                body = make(size)
                times = []
                for _ in range(3):
                    start = time.perf_counter()
                    response = client.post("/admin/issues/preview", json={"body": body, "subject": "Bench"})
                    times.append(time.perf_counter() - start)
                    assert response.status_code == 200, (name, response.status_code)
                results[f"{name} @{size}"] = times
        for size in (8192, 16384):
            base = statistics.median(results[f"plain paragraph @{size}"])
            print(f"\n{size // 1024} KB input (median of 3; ratio to a plain paragraph of the same size)")
            for name in CASES:
                median = statistics.median(results[f"{name} @{size}"])
                print(f"  {name:18s} {median * 1000:8.1f} ms   x{median / base:5.2f}")
        print("\ngrowth from 8 KB to 16 KB (linear is about 2):")
        for name in CASES:
            small, large = (statistics.median(results[f"{name} @{s}"]) for s in (8192, 16384))
            print(f"  {name:18s} x{large / small:4.2f}")


if __name__ == "__main__":
    main()
