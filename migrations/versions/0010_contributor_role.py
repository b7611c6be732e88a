"""Contributors: a third role, who created each issue, and user handles

Revision ID: 0010_contributor_role
Revises: 0009_engagement_index
Create Date: 2026-12-03

- The role column's CHECK (``ck_users_role``, from 0002) listed admin and
  editor; it now admits contributor too.
- ``issues.created_by_id`` (nullable, ON DELETE SET NULL): a contributor works
  on the drafts they created. Existing issues get the author of their first
  revision, which is who created them (no revision: left empty, so no
  contributor can claim it).
- ``users.handle`` (unique, not null): what a placeholder names its owner by
  (``TODO(@ryan): ...``). Existing users get the local part of their address,
  made to fit the handle pattern and numbered when taken, in id order.
- ``users.notify`` (immediately, digest or off; default immediately): how a
  user hears about placeholders that name them.
- ``comments``: notes on a draft's lines for its writers (never part of the
  text), resolvable.
- ``assignments``: each placeholder line (or comment @-mention) that names an
  owner, as first seen, with when its owner was told and when the line went
  away. Empty at first (the owner syntax is new): filled as issues are saved.

On PostgreSQL: the column is nullable (no table rewrite), the foreign key and
the new CHECK are added NOT VALID and validated afterwards. On SQLite the two
tables are rebuilt by batch mode, keeping AUTOINCREMENT (ids are never reused).
"""
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alembic import op
import sqlalchemy as sa


revision = '0010_contributor_role'
down_revision = '0009_engagement_index'
branch_labels = None
depends_on = None

CHECK = "ck_users_role"
NOTIFY = "ck_users_notify"
NOTIFY_CHECK = "notify IN ('immediately', 'digest', 'off')"
UNIQUE = "uq_users_handle"
FK = "fk_issues_created_by_id_users"
FILL = ("UPDATE issues SET created_by_id = (SELECT r.author_id FROM revisions r WHERE r.issue_id = issues.id "
        "ORDER BY r.number LIMIT 1)")


@contextmanager
def _rebuilt(table: str) -> Iterator[Any]:
    """SQLite changes a constraint only by rebuilding the table; the rebuild
    keeps AUTOINCREMENT and the sequence, so no id is handed out twice (as 0008)."""
    bind = op.get_bind()
    seq = bind.execute(sa.text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table}).scalar()
    with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}) as batch:
        yield batch
    if seq is not None:
        updated = bind.execute(
            sa.text("UPDATE sqlite_sequence SET seq = MAX(seq, :seq) WHERE name = :t"), {"seq": seq, "t": table}
        )
        if not updated.rowcount:  # every row had been deleted: the rebuilt table has no sequence row yet
            bind.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :seq)"), {"t": table, "seq": seq})


def _roles(roles: tuple[str, ...]) -> str:
    return "role IN (" + ", ".join(f"'{role}'" for role in roles) + ")"


def upgrade():
    roles = _roles(("admin", "editor", "contributor"))
    op.add_column("users", sa.Column("handle", sa.String(length=40), nullable=True))
    _fill_handles()
    op.add_column("users", sa.Column("notify", sa.String(length=20), nullable=False, server_default="immediately"))
    _create_comments()
    _create_assignments()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE users ADD CONSTRAINT {NOTIFY} CHECK ({NOTIFY_CHECK}) NOT VALID")
        op.execute(f"ALTER TABLE users DROP CONSTRAINT {CHECK}")
        op.execute(f"ALTER TABLE users ADD CONSTRAINT {CHECK} CHECK ({roles}) NOT VALID")
        op.execute("ALTER TABLE users ALTER COLUMN handle SET NOT NULL")
        op.execute(f"ALTER TABLE users ADD CONSTRAINT {UNIQUE} UNIQUE (handle)")
        op.add_column("issues", sa.Column("created_by_id", sa.Integer(), nullable=True))
        op.execute(
            f"ALTER TABLE issues ADD CONSTRAINT {FK} FOREIGN KEY (created_by_id) "
            "REFERENCES users (id) ON DELETE SET NULL NOT VALID"
        )
        op.execute(FILL)
        op.execute(f"ALTER TABLE users VALIDATE CONSTRAINT {CHECK}")
        op.execute(f"ALTER TABLE users VALIDATE CONSTRAINT {NOTIFY}")
        op.execute(f"ALTER TABLE issues VALIDATE CONSTRAINT {FK}")
    else:
        with _rebuilt("users") as batch:
            batch.drop_constraint(op.f(CHECK), type_="check")
            batch.create_check_constraint(op.f(CHECK), roles)
            batch.alter_column("handle", existing_type=sa.String(length=40), nullable=False)
            batch.create_unique_constraint(op.f(UNIQUE), ["handle"])
            batch.create_check_constraint(op.f(NOTIFY), NOTIFY_CHECK)
        with _rebuilt("issues") as batch:
            batch.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
            batch.create_foreign_key(op.f(FK), "users", ["created_by_id"], ["id"], ondelete="SET NULL")
        op.execute(FILL)


def _create_comments() -> None:
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("line_from", sa.Integer(), nullable=False),
        sa.Column("line_to", sa.Integer(), nullable=False),
        sa.Column("quote", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], name=op.f("fk_comments_issue_id_issues"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_comments_author_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"], ["users.id"], name=op.f("fk_comments_resolved_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    op.create_index(op.f("ix_comments_issue_id"), "comments", ["issue_id"])


def _create_assignments() -> None:
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("handle", sa.String(length=40), nullable=False),
        sa.Column("line_text", sa.String(length=500), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("assigned_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("notified_at", sa.DateTime(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], name=op.f("fk_assignments_issue_id_issues"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["assigned_by_id"], ["users.id"], name=op.f("fk_assignments_assigned_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_assignments_comment_id_comments"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.UniqueConstraint("issue_id", "handle", "line_text", name=op.f("uq_assignments_issue_id")),
    )
    op.create_index(op.f("ix_assignments_issue_id"), "assignments", ["issue_id"])
    op.create_index(op.f("ix_assignments_handle"), "assignments", ["handle"])


def _fill_handles() -> None:
    """The rule of app.auth.handles.default_handle, written out here so the
    migration stays as it is when the application changes."""
    bind = op.get_bind()
    taken: set[str] = set()
    for user_id, email in bind.execute(sa.text("SELECT id, email FROM users ORDER BY id")).all():
        base = re.sub(r"[^a-z0-9._-]+", "-", email.split("@", 1)[0].lower())
        base = re.sub(r"^[^a-z0-9]+|[^a-z0-9]+$", "", base)[:36].rstrip("._-") or "user"
        handle, number = base, 1
        while handle in taken:
            number += 1
            handle = f"{base}-{number}"
        taken.add(handle)
        bind.execute(sa.text("UPDATE users SET handle = :h WHERE id = :id"), {"h": handle, "id": user_id})


def downgrade():
    # Refused by the CHECK while a contributor exists: change their role first.
    roles = _roles(("admin", "editor"))
    op.drop_table("assignments")
    op.drop_table("comments")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("issues", "created_by_id")
        op.drop_column("users", "handle")
        op.drop_column("users", "notify")
        op.execute(f"ALTER TABLE users DROP CONSTRAINT {CHECK}")
        op.execute(f"ALTER TABLE users ADD CONSTRAINT {CHECK} CHECK ({roles})")
    else:
        with _rebuilt("issues") as batch:
            batch.drop_constraint(op.f(FK), type_="foreignkey")
            batch.drop_column("created_by_id")
        with _rebuilt("users") as batch:
            batch.drop_constraint(op.f(UNIQUE), type_="unique")
            batch.drop_constraint(op.f(NOTIFY), type_="check")
            batch.drop_column("handle")
            batch.drop_column("notify")
            batch.drop_constraint(op.f(CHECK), type_="check")
            batch.create_check_constraint(op.f(CHECK), roles)
