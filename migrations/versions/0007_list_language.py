"""Lists as readers see them: the language of a list's pages and mails

Revision ID: 0007_list_language
Revises: 0006_list_display_name
Create Date: 2026-12-03

A NOT NULL column with a constant server default: existing lists read "en"
(in place on PostgreSQL 11+ and SQLite, no table rewrite).
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_list_language'
down_revision = '0006_list_display_name'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('lists', sa.Column('language', sa.String(length=8), nullable=False, server_default='en'))


def downgrade():
    with op.batch_alter_table('lists') as batch:
        batch.drop_column('language')
