"""trust: input bounds

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 20:20:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import lms.db  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


IN_RANGE = "BETWEEN '1900-01-01' AND '2199-12-31'"


def upgrade():
    # Dates outside the range lms.validation accepts cannot be stored (a 9999-12-31 due date broke the .ics feed).
    # Rows saved before the bound existed (the issue reports one) are pulled to the nearest end of the range first,
    # or adding the constraint would fail on them.
    for table, column in (('assignment', 'start_on'), ('assignment', 'due_on'), ('due_date_extension', 'due_on')):
        op.execute(f"UPDATE {table} SET {column} = '2199-12-31' WHERE {column} > '2199-12-31'")
        op.execute(f"UPDATE {table} SET {column} = '1900-01-01' WHERE {column} < '1900-01-01'")
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_check_constraint('dates_in_range', f"start_on {IN_RANGE} AND due_on {IN_RANGE}")
    with op.batch_alter_table('due_date_extension', schema=None) as batch_op:
        batch_op.create_check_constraint('due_on_in_range', f"due_on {IN_RANGE}")


def downgrade():
    with op.batch_alter_table('due_date_extension', schema=None) as batch_op:
        batch_op.drop_constraint('due_on_in_range', type_='check')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_constraint('dates_in_range', type_='check')
