"""Compiled segments against a real database (SQLite, and PostgreSQL when
PRESSROOM_TEST_DATABASE_URL is set): every field, operator and function
selects exactly the expected subscribers; values are bound parameters; the
condition works inside the send's INSERT ... SELECT."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, func, insert, literal, literal_column, select, text
from sqlalchemy.dialects import postgresql, sqlite

from app.db import db
from app.segments import SegmentError, compile_segment, parse
from app.segments.nodes import Call, Comparison, Field, Text
from app.segments.sql_schema import SqlSegmentSchema
from app.sending.models import Delivery, Send
from app.sending.recipients import recipients_select
from app.subscribers.models import Subscriber
from tests.conftest import IS_POSTGRES
from tests.support.segments import NOW, TYPES, World, attributes_column, build_world
from tests.support.sending import recount_sends


@pytest.fixture(scope="module")
def attributes(database_url: str):
    with attributes_column(database_url) as column:
        yield column


@pytest.fixture
def world(app, attributes) -> World:
    return build_world()


def schema_for(world: World, attributes: Any, *lists: str) -> SqlSegmentSchema:
    return SqlSegmentSchema(
        [world.lists[slug] for slug in lists], attribute_types=TYPES, attributes=attributes, now=NOW
    )


def selected(expression: str, schema: SqlSegmentSchema) -> set[str]:
    condition = compile_segment(parse(expression), schema)
    emails = db.session.scalars(select(Subscriber.email).where(condition))
    return {email.split("@")[0] for email in emails}


CASES = [
    # built-in fields
    ('email = "ADA@example.org"', "ada"),
    ('email contains "example.org"', "ada cy eve"),
    ('email < "c"', "ada bob"),
    ('email in ["bob@example.com", "nobody@example.com"]', "bob"),
    ('domain = "example.org"', "ada eve"),
    ('domain != "example.org"', "bob cy dee"),
    ('domain in ["example.com", "EXAMPLE.NET"]', "bob dee"),
    ('domain contains "example.org"', "ada cy eve"),
    ("name is set", "ada bob dee"),
    ("name is not set", "cy eve"),
    ('name contains "o"', "ada bob"),
    ('name contains "O"', "dee"),  # exact and case-sensitive, on both databases
    ('name = "Dee O\'Brien"', "dee"),
    ('name >= "B"', "bob dee"),
    ('signup_date = date("2026-03-01")', "bob cy"),
    ('signup_date = "2026-03-01"', "bob cy"),
    ('signup_date != date("2026-03-01")', "ada dee eve"),
    ('signup_date < "2026-03-01"', "ada eve"),
    ('signup_date <= "2026-03-01"', "ada bob cy eve"),
    ('signup_date > "2026-03-01"', "dee"),
    ('signup_date >= date("2026-03-02")', "dee"),
    ('signup_date in [date("2025-12-31"), "2026-03-02"]', "dee eve"),
    ('signup_date > date("9999-12-31")', ""),
    ('signup_date >= date("0001-01-01")', "ada bob cy dee eve"),
    # subscriptions: source is read on the segment's lists (news), list on any
    ('source = "signup"', "ada cy"),  # dee unsubscribed from news, eve is pending
    ('source contains "import"', "bob"),  # ada's import:crm is on clients
    ('source != "signup"', "bob dee eve"),
    ("source is set", "ada bob cy"),
    ('list = "clients"', "ada dee"),
    ('list = "news"', "ada bob cy"),
    ('list in ["internal", "clients"]', "ada cy dee"),
    ('list != "news"', "dee eve"),
    ("list is not set", "eve"),
    # custom attributes
    ('attribs.plan = "pro"', "ada cy"),
    ('attribs.plan != "pro"', "bob dee eve"),  # no plan at all is "not pro"
    ("attribs.plan is set", "ada bob cy"),  # eve's explicit null is not a value
    ("attribs.plan is not set", "dee eve"),
    ('attribs.plan in ["pro", "free"]', "ada bob cy"),
    ('attribs.plan < "g"', "bob"),
    ('attribs.plan contains "r"', "ada bob cy"),
    ('attribs.country = "DE"', "ada"),
    ("attribs.age > 30", "ada"),  # cy's "36" is a string, not a number
    ("attribs.age = 36", "ada"),
    ("attribs.age <= 17.5", "bob"),
    ("attribs.age >= -1", "ada bob"),
    ("attribs.age in [17.5, 99]", "bob"),
    ("attribs.age != 36", "bob cy dee eve"),
    ("attribs.vip = true", "ada"),
    ("attribs.vip = false", "bob"),
    ("attribs.vip != true", "bob cy dee eve"),
    ('attribs.tags contains "beta"', "ada bob"),  # cy's tags is a string, not a list
    ('attribs.tags contains "press"', "ada"),
    ("attribs.tags is set", "ada bob cy"),
    ('attribs.renewal < "2026-06-01"', "ada"),
    ('attribs.renewal = date("2026-05-01")', "ada"),
    # logic
    ('attribs.plan = "pro" and (attribs.country in ["DE", "FR"] or domain = "example.org")', "ada"),
    ('not (attribs.plan = "pro" or list = "clients")', "bob eve"),
    ("not not attribs.vip = true", "ada"),
    ('attribs.plan = "free" or attribs.plan = "pro" and attribs.country = "US"', "bob cy"),
    ("not attribs.age > 30", "bob cy dee eve"),
    # engagement on the news list: S1 < S2 < S3 finished, S4 running (ignored)
    ("opened_in_last(3)", "ada bob"),  # bob's click counts as an open
    ("opened_in_last(2)", "bob"),
    ("clicked_in_last(1)", "bob"),
    ("clicked_in_last(100)", "bob"),  # cy's click is on the running S4
    ("not_opened_in_last(2)", "ada cy dee"),
    ("not_opened_in_last(3)", "cy dee"),
    ("not opened_in_last(3)", "cy dee eve"),  # eve received none of them
    ("bounced_softly_in_last_days(3)", "bob"),  # ada's hard bounce is not soft
    ("bounced_softly_in_last_days(15)", "bob cy"),
]


@pytest.mark.parametrize(("expression", "expected"), CASES)
def test_each_condition_selects_exactly_the_expected_subscribers(world, attributes, expression, expected):
    assert selected(expression, schema_for(world, attributes, "news")) == set(expected.split())


ENGAGEMENT = [case for case in CASES if "_in_last(" in case[0]]  # the ones about sends


@pytest.mark.parametrize(("expression", "expected"), ENGAGEMENT)
def test_sends_looked_up_while_compiling_select_the_same_subscribers(world, attributes, expression, expected):
    """The application's schema writes the last sends in as constants (with
    their deliveries' id range, when the sends know it): the same answers."""
    lookups: list[Any] = []

    def execute(query: Any) -> Any:
        lookups.append(query)
        return db.session.execute(query).all()

    def schema() -> SqlSegmentSchema:
        return SqlSegmentSchema(
            [world.lists["news"]], attribute_types=TYPES, attributes=attributes, now=NOW, execute=execute
        )

    assert selected(expression, schema()) == set(expected.split())
    assert lookups, "the sends were looked up"
    for send in db.session.scalars(select(Send)):  # as start_send records them
        send.first_delivery_id, send.last_delivery_id = db.session.execute(
            select(func.min(Delivery.id), func.max(Delivery.id)).where(Delivery.send_id == send.id)
        ).one()
    db.session.flush()
    assert selected(expression, schema()) == set(expected.split())


def test_engagement_is_counted_on_the_segment_s_lists(world, attributes):
    clients = schema_for(world, attributes, "clients")
    assert selected("opened_in_last(1)", clients) == {"dee"}
    assert selected("not_opened_in_last(1)", clients) == {"ada"}
    anywhere = schema_for(world, attributes)  # no list: the latest finished sends overall (C1 first)
    assert selected("opened_in_last(1)", anywhere) == {"dee"}
    assert selected("opened_in_last(5)", anywhere) == {"ada", "bob", "dee"}
    assert selected('source contains "import"', anywhere) == {"ada", "bob"}


def test_the_human_only_hook_changes_every_engagement_condition(world, attributes):
    bob_click = db.session.get(Delivery, world.deliveries[("S3", "bob")].id)
    db.session.execute(
        text("UPDATE feedback_events SET detail = 'machine' WHERE delivery_id = :d"), {"d": bob_click.id}
    )

    class HumanOnly(SqlSegmentSchema):
        def human_only(self, event: Any):
            return event.detail != "machine"

    human = HumanOnly([world.lists["news"]], attribute_types=TYPES, attributes=attributes, now=NOW)
    assert selected("opened_in_last(3)", human) == {"ada"}
    assert selected("clicked_in_last(3)", human) == set()
    assert selected("not_opened_in_last(3)", human) == {"bob", "cy", "dee"}


def test_attributes_are_refused_where_the_store_has_none(world):
    class NoAttributes(SqlSegmentSchema):
        attributes = None  # type: ignore[assignment]

    schema = NoAttributes([world.lists["news"]], attribute_types=TYPES)
    with pytest.raises(SegmentError, match="not available") as caught:
        compile_segment(parse('name = "x" or attribs.plan = "pro"'), schema)
    assert caught.value.column == 15
    with pytest.raises(SegmentError, match="unknown attribute 'attribs.colour'"):
        compile_segment(parse('attribs.colour = "red"'), schema)


def test_the_condition_works_inside_the_send_s_insert_select(world, attributes):
    """The recipient query joins subscriptions itself; the segment's own
    subqueries must not be correlated to its rows."""
    news = world.lists["news"]
    condition = compile_segment(
        parse('source = "signup" or attribs.vip = false or opened_in_last(3)'), schema_for(world, attributes, "news")
    )
    send = Send(issue_id=db.session.get(Send, world.sends["S1"]).issue_id, status="running")
    db.session.add(send)
    db.session.flush()
    rows = recipients_select([news]).where(condition).subquery()
    db.session.execute(
        insert(Delivery).from_select(
            ["send_id", "subscriber_id", "list_id", "email", "status", "attempts"],
            select(literal(send.id), rows.c[0], rows.c[1], rows.c[2], literal("queued"), literal(0)),
        )
    )
    recount_sends()
    emails = db.session.scalars(select(Delivery.email).where(Delivery.send_id == send.id))
    assert sorted(emails) == ["ada@example.org", "bob@example.com", "cy@sub.example.org"]
    count = db.session.scalar(
        select(func.count()).select_from(
            recipients_select([news])
            .where(compile_segment(parse('attribs.tags contains "press"'), schema_for(world, attributes)))
            .subquery()
        )
    )
    assert count == 1


EVERYONE = {"ada", "bob", "cy", "dee", "eve"}
HOSTILE = [
    "'; DROP TABLE subscribers; --",
    '" OR 1=1 --',
    "\\'",
    "%_%",
    "$.plan') OR ('1'='1",
    "Robert'); DELETE FROM lists;--",
    "😀 ünïcödé \u202e",
    "x" * 1000,
    "x ? y",
    "%(p)s",
    ":name",
]


def _sql_and_params(condition: Any, dialect: Any) -> tuple[str, list[Any]]:
    compiled = select(Subscriber.id).where(condition).compile(dialect=dialect)
    values: list[Any] = []
    for value in compiled.params.values():
        values.extend(
            value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else [value]
        )
    return str(compiled), [v for value in values for v in (value if isinstance(value, list) else [value])]


def _hostile_expressions(value: str) -> list[str]:
    from app.segments.printer import quote

    q = quote(value)
    return [
        f"name = {q}",
        f"email contains {q}",
        f"domain in [{q}]",
        f"source = {q}",
        f"list = {q}",
        f"attribs.plan = {q}",
        f"attribs.plan < {q}",
        f"attribs.plan contains {q}",
        f"attribs.tags contains {q}",
        f"attribs.country in [{q}, {q}]",
    ]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_are_bound_parameters_and_harmless(world, attributes, value):
    schema = schema_for(world, attributes, "news")
    for expression in _hostile_expressions(value):
        condition = compile_segment(parse(expression), schema)
        for dialect in (sqlite.dialect(), postgresql.dialect()):
            sql, params = _sql_and_params(condition, dialect)
            assert value not in sql and value.lower() not in sql
            assert value in params or value.lower() in params
        found = selected(expression, schema)
        if " < " not in expression:
            assert found == set()  # nobody has these values
        assert selected(f"not ({expression})", schema) == EVERYONE - found  # the complement, exactly
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 5


@pytest.mark.parametrize(
    ("number", "below"),
    [("9" * 30, "ada bob"), ("-" + "9" * 30, ""), ("0." + "0" * 27 + "1", ""), ("-0", ""), ("17.50001", "bob")],
)
def test_huge_and_tiny_numbers_are_bound_and_compare_exactly(world, attributes, number, below):
    schema = schema_for(world, attributes, "news")
    condition = compile_segment(parse(f"attribs.age < {number}"), schema)
    assert number not in _sql_and_params(condition, postgresql.dialect())[0]
    assert selected(f"attribs.age < {number}", schema) == set(below.split())
    assert selected(f"attribs.age = {number}", schema) == set()


MARK = "Zq7Xw"
# For tests that only compile: the column by name, no database needed.
DETACHED_ATTRIBUTES = literal_column("subscribers.attributes", JSON())


@settings(
    max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None
)
@given(st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40))
def test_generated_strings_never_reach_the_sql_text(world, attributes, value):
    from app.segments.printer import quote

    schema = schema_for(world, attributes, "news")
    marked = MARK + value + MARK
    for expression in (
        f"name = {quote(marked)}",
        f"attribs.tags contains {quote(marked)}",
        f"attribs.plan in [{quote(marked)}]",
    ):
        condition = compile_segment(parse(expression), schema)
        sql, params = _sql_and_params(condition, postgresql.dialect())
        assert MARK not in sql and marked in params
        assert db.session.scalars(select(Subscriber.id).where(condition)).all() == []


@pytest.mark.postgres_only
def test_equality_and_list_membership_use_the_migrated_gin_index(world, attributes):
    from psycopg.types.json import Jsonb

    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    schema = schema_for(world, attributes, "news")
    for expression in (
        'attribs.plan = "pro"',
        'attribs.tags contains "beta"',
        "attribs.vip = true",
        'attribs.country in ["DE", "FR"]',
    ):
        stmt = select(Subscriber.id).where(compile_segment(parse(expression), schema))
        compiled = stmt.compile(dialect=db.engine.dialect)
        params = {k: Jsonb(v) if isinstance(v, dict) else v for k, v in compiled.params.items()}
        plan = db.session.connection().exec_driver_sql(f"EXPLAIN {compiled}", params).scalars().all()
        assert any("ix_subscribers_attributes" in line for line in plan), plan
    db.session.rollback()
    assert IS_POSTGRES


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "attribs.plan",
                "attribs.age",
                "attribs.vip",
                "attribs.tags",
                "attribs.renewal",
                "signup_date",
                "name",
                "domain",
                "list",
                "source",
                "=",
                "!=",
                "<",
                ">=",
                "contains",
                "in",
                "is",
                "not",
                "set",
                "and",
                "or",
                "(",
                ")",
                "[",
                "]",
                ",",
                '"x"',
                '"2026-03-01"',
                "-3.5",
                "9999999",
                "true",
                'date("9999-12-31")',
                "opened_in_last(2)",
                "not_opened_in_last(100)",
                "bounced_softly_in_last_days(1)",
            ]
        ),
        max_size=25,
    ).map(" ".join)
)
def test_whatever_parses_also_compiles_on_both_databases(expression):
    try:
        tree = parse(expression, TYPES)
    except SegmentError:
        return
    schema = SqlSegmentSchema([1], attribute_types=TYPES, attributes=DETACHED_ATTRIBUTES)
    condition = compile_segment(tree, schema)
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        assert "WHERE" in str(select(Subscriber.id).where(condition).compile(dialect=dialect))


@pytest.mark.parametrize(
    "tree",
    [
        Comparison(Field("emial"), "=", Text("x")),
        Comparison(Field("attribs", 'plan"]'), "=", Text("x")),
        Comparison(Field("name", "plan"), "=", Text("x")),
        Call("opened_in_last", 0),
        Call("drop_table", 1),  # type: ignore[arg-type]
        Comparison(Field("signup_date"), "<", Text("yesterday")),
    ],
)
def test_trees_built_in_code_are_checked_too(tree):
    schema = SqlSegmentSchema(attribute_types=TYPES, attributes=DETACHED_ATTRIBUTES)
    with pytest.raises(SegmentError):
        compile_segment(tree, schema)
