"""Explicit publication: an admin can put a sent issue in the public archive

Revision ID: 0005_publication
Revises: 0004_collection
Create Date: 2026-12-03

One nullable column (in place on PostgreSQL and SQLite). Which issues are
public is otherwise derived from the sends (app/sending/publication.py), so no
data moves.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_publication'
down_revision = '0004_collection'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('issues', sa.Column('published_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('issues') as batch:
        batch.drop_column('published_at')
