"""Sends prepared in chunks: sends.prepare_until and sends.prepared_through

Revision ID: 0011_prepared_sends
Revises: 0010_contributor_role
Create Date: 2026-12-03

A send's deliveries were one INSERT ... SELECT when it started (75 s for a
million readers on a 2-core machine, every foreign key checked per row, with
nothing sent meanwhile). Now the first chunk of subscriber ids is written when
the send starts and the rest by the workers, chunk by chunk, each in its own
transaction with the cursor (``prepared_through``), up to the highest
subscriber id at the start (``prepare_until``). Both are nullable: existing
sends have every delivery already (NULL = prepared). No table rewrite.
"""
from alembic import op
import sqlalchemy as sa


revision = "0011_prepared_sends"
down_revision = "0010_contributor_role"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("sends", sa.Column("prepare_until", sa.Integer(), nullable=True))
    op.add_column("sends", sa.Column("prepared_through", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("sends", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("prepared_through")
        batch.drop_column("prepare_until")
