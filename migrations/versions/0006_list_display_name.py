"""Lists as readers see them: a display name beside the name and slug

Revision ID: 0006_list_display_name
Revises: 0005_publication
Create Date: 2026-12-03

One nullable column; unset, readers see the list's name as before.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_list_display_name'
down_revision = '0005_publication'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('lists', sa.Column('display_name', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('lists') as batch:
        batch.drop_column('display_name')
