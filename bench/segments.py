"""Segment bench (PostgreSQL): does the compiled ``attribs.x = "v"`` use the
GIN index, and what does that buy over reading the attribute with ``->>``?

    PRESSROOM_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test_segments \
        .venv/bin/python bench/segments.py [--rows 200000]

The bench database is wiped (DROP SCHEMA public) and rebuilt by the real
migrations; the ``attributes`` jsonb column and its GIN index (the schema
change this package needs, not migrated yet) are added on top. Generated
subscribers: 1 in 200 has plan "pro", 1 in 50 has tag "beta".

For each condition it times the compiled segment (containment: ``@>``, GIN)
against a baseline measured in the same run: the same condition written with
the typed accessor (``->>`` in a CASE, which no index serves), i.e. what a
compiler without the containment rule would emit. It prints the median
milliseconds of each and their ratio, plus the parse + compile cost of a
typical expression.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import String, create_engine, func, literal, literal_column, or_, select, text  # noqa: E402
from sqlalchemy.dialects.postgresql import JSONB  # noqa: E402


def reset(url: str) -> None:
    from app.config import _normalise_db_url

    engine = create_engine(_normalise_db_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def median_ms(run, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    url = os.environ.get("PRESSROOM_BENCH_DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("PRESSROOM_BENCH_DATABASE_URL must name a PostgreSQL database (it is wiped).")
    reset(url)
    from flask_migrate import upgrade

    from app import create_app
    from app.db import db
    from app.segments import compile_segment, parse, sqlfuncs
    from app.segments.sql_schema import SqlSegmentSchema
    from app.subscribers.models import Subscriber

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        upgrade()
        db.session.execute(text("ALTER TABLE subscribers ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}'"))
        db.session.execute(
            text(
                "INSERT INTO subscribers (email, name, status, source, created_at, attributes) "
                "SELECT 'reader' || n || '@example' || (n % 997) || '.org', 'Reader ' || n, 'enabled', 'bench', "
                "now() - make_interval(secs => n), jsonb_build_object("
                "'plan', CASE WHEN n % 200 = 0 THEN 'pro' ELSE 'free' END, "
                "'country', (ARRAY['DE', 'FR', 'US', 'GB', 'NL'])[n % 5 + 1], 'age', n % 90, "
                "'tags', CASE WHEN n % 50 = 0 THEN '[\"beta\", \"press\"]'::jsonb ELSE '[\"press\"]'::jsonb END) "
                "FROM generate_series(1, :rows) AS n"
            ),
            {"rows": args.rows},
        )
        db.session.execute(text("CREATE INDEX ix_subscribers_attributes ON subscribers USING gin (attributes)"))
        db.session.commit()
        db.session.execute(text("ANALYZE subscribers"))
        db.session.commit()

        doc = literal_column("subscribers.attributes", JSONB())
        types = {"plan": "text", "country": "text", "age": "number", "tags": "list"}
        schema = SqlSegmentSchema(attribute_types=types, attributes=doc)  # type: ignore[arg-type]

        def count(condition) -> int:
            return db.session.scalar(select(func.count()).select_from(Subscriber).where(condition)) or 0

        def accessor(key: str, value: str):
            return sqlfuncs.json_text(doc, literal(key, String())) == literal(value, String())

        baselines = {
            'attribs.plan = "pro"': accessor("plan", "pro"),
            'attribs.plan in ["pro", "gold"]': or_(accessor("plan", "pro"), accessor("plan", "gold")),
            'attribs.tags contains "beta"': text(
                "jsonb_typeof(subscribers.attributes -> 'tags') = 'array' "
                "AND (subscribers.attributes -> 'tags') ? 'beta'"
            ),
        }
        print(f"{args.rows} subscribers, median of {args.repeat} runs")
        for expression, baseline in baselines.items():
            compiled = compile_segment(parse(expression), schema)
            found, expected = count(compiled), count(baseline)
            assert found == expected, (expression, found, expected)
            segment_ms = median_ms(lambda c=compiled: count(c), args.repeat)
            baseline_ms = median_ms(lambda b=baseline: count(b), args.repeat)
            print(
                f"  {expression:34} {found:6} rows  segment {segment_ms:7.2f} ms  "
                f"->> baseline {baseline_ms:7.2f} ms  ratio {baseline_ms / segment_ms:5.1f}x"
            )

        typical = (
            'attribs.plan = "pro" and (attribs.country in ["DE", "FR"] or domain = "example.org") '
            "and clicked_in_last(3)"
        )
        compile_us = median_ms(lambda: compile_segment(parse(typical), schema), 200) * 1000
        print(f"  parse + compile of a typical expression: {compile_us:.0f} us")


if __name__ == "__main__":
    main()
