"""The supervisor dashboard for 5,000 trainees x a 12-module curriculum, against the raw aggregate SQL.

Budget (issue 6): the dashboard answers within 3x the time of the aggregate SQL that computes the
same figures (completion % and overdue trainees for the cohort x curriculum), measured in one run,
with the same number of queries at any population size.
"""

import os
import re
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, text

from lms import create_app
from lms.content.services import get_catalog
from lms.demo.scale import scale
from lms.extensions import db
from lms.quizzes.services import get_library

TRAINEES = int(os.environ.get("BENCH_TRAINEES", "5000"))
RAW_SQL = text("""
WITH members AS (SELECT user_id FROM cohort_member WHERE cohort_id = :cohort),
     items AS (SELECT ref_id FROM curriculum_item WHERE curriculum_id = :curriculum AND kind = 'module' AND required),
     done AS (SELECT DISTINCT c.user_id, c.module_id FROM credit c
              JOIN members m ON m.user_id = c.user_id JOIN items i ON i.ref_id = c.module_id),
     per_user AS (SELECT m.user_id, COUNT(d.module_id) AS n FROM members m
                  LEFT JOIN done d ON d.user_id = m.user_id GROUP BY m.user_id)
SELECT (SELECT COUNT(*) FROM members) AS trainees,
       100.0 * (SELECT COUNT(*) FROM done) / ((SELECT COUNT(*) FROM members) * (SELECT COUNT(*) FROM items)),
       (SELECT COUNT(*) FROM per_user WHERE n < (SELECT COUNT(*) FROM items)) AS behind
""")


def median_ms(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'dash.sqlite3'}", "SECRET_KEY": "bench",
                      "INSTANCE_PATH": str(tmp)})
    with app.app_context():
        db.create_all()
        result = scale(db.session, get_catalog(), get_library(), TRAINEES)
        db.session.commit()
        cohort_id, curriculum_id = db.session.execute(text(
            "SELECT a.cohort_id, a.curriculum_id FROM assignment a ORDER BY a.id DESC LIMIT 1")).one()
    client = app.test_client()
    page = client.get("/login").text
    token = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"csrf_token": token, "email": result["supervisor"], "password": "demo-password"})
    assert client.get("/dashboard").status_code == 200  # warm: catalog, bank and statement caches
    queries = {"n": 0}
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: queries.__setitem__("n", queries["n"] + 1))
    dashboard = median_ms(lambda: client.get("/dashboard"))
    per_request = queries["n"] // 5
    with app.app_context():
        raw = median_ms(lambda: db.session.execute(RAW_SQL, {"cohort": cohort_id, "curriculum": curriculum_id}).all())
        trainees, completion, behind = db.session.execute(RAW_SQL, {"cohort": cohort_id,
                                                                    "curriculum": curriculum_id}).one()
    ratio = dashboard / raw
    print(f"dashboard_scale: {trainees} trainees x 12 items ({completion:.1f}% complete, {behind} not finished): "
          f"dashboard {dashboard:.0f} ms ({per_request} queries), raw aggregate SQL {raw:.0f} ms, "
          f"ratio {ratio:.1f}x (budget <= 3x) {'OK' if ratio <= 3 else 'OVER BUDGET'}")


if __name__ == "__main__":
    main()
