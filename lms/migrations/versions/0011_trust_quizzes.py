"""trust: at most one open attempt per trainee and quiz

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 20:20:00

"""
from collections import defaultdict
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

import lms.db


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


OPEN = sa.text("status = 'in_progress'")

attempt_table = sa.table(
    "quiz_attempt", sa.column("id", sa.Integer), sa.column("user_id", sa.Integer), sa.column("kind", sa.String),
    sa.column("source_id", sa.String), sa.column("item_ids", sa.JSON), sa.column("pass_mark", sa.Integer),
    sa.column("status", sa.String), sa.column("submitted_at", lms.db.UTCDateTime(timezone=True)),
    sa.column("score_percent", sa.Double), sa.column("passed", sa.Boolean))
answer_table = sa.table("attempt_answer", sa.column("attempt_id", sa.Integer), sa.column("score", sa.Double))


def _close_duplicate_open_attempts(conn) -> None:
    """Parallel starts left some trainees several open attempts at one quiz: keep one, submit the rest.

    The one kept is the one with the most answers (then the newest). The others are submitted now,
    scored from their stored marks over every served item (the content library is not available here).
    """
    answered = dict(conn.execute(sa.select(answer_table.c.attempt_id, sa.func.count())
                                 .group_by(answer_table.c.attempt_id)).all())
    groups = defaultdict(list)
    for row in conn.execute(sa.select(attempt_table).where(attempt_table.c.status == "in_progress")):
        groups[(row.user_id, row.kind, row.source_id)].append(row)
    now = datetime.now(UTC)
    for rows in groups.values():
        rows.sort(key=lambda r: (answered.get(r.id, 0), r.id), reverse=True)
        for row in rows[1:]:
            total = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(answer_table.c.score), 0.0))
                                 .where(answer_table.c.attempt_id == row.id)).scalar_one()
            score = round(100 * total / len(row.item_ids), 1) if row.item_ids else 0.0
            conn.execute(attempt_table.update().where(attempt_table.c.id == row.id).values(
                status="submitted", submitted_at=now, score_percent=score,
                passed=None if row.kind == "review" else score >= row.pass_mark))


def upgrade():
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_saved_at', lms.db.UTCDateTime(timezone=True), nullable=True))
    _close_duplicate_open_attempts(op.get_bind())
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.create_index('uq_quiz_attempt_one_open', ['user_id', 'kind', 'source_id'], unique=True,
                              sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade():
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.drop_index('uq_quiz_attempt_one_open')
        batch_op.drop_column('last_saved_at')
