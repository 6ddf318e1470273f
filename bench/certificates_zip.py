"""Stream a ZIP of 1,000 certificates and report the peak memory while doing it.

Budget (issue 5): the bulk ZIP streams without holding every certificate in memory. The peak
is printed beside the size of the whole archive; a streamed export peaks far below it.
"""

import os
import re
import tempfile
import time
import tracemalloc
from pathlib import Path

from lms import create_app
from lms.accounts.models import Cohort, CohortMember, CohortSupervisor, User
from lms.accounts.services import hash_password
from lms.certificates.codes import new_code
from lms.db import utcnow
from lms.extensions import db
from lms.progress.models import Credit

COUNT = int(os.environ.get("BENCH_CERTIFICATES", "1000"))


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-zip-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'zip.sqlite3'}", "SECRET_KEY": "bench",
                      "INSTANCE_PATH": str(tmp), "SERVER_NAME": "academy.test"})
    with app.app_context():
        db.create_all()
        supervisor = User(email="sup@bench.test", name="Supervisor", role="supervisor",
                          password_hash=hash_password("bench-password-1"))
        cohort = Cohort(name="Bench")
        db.session.add_all([supervisor, cohort])
        db.session.flush()
        db.session.add(CohortSupervisor(cohort_id=cohort.id, user_id=supervisor.id))
        now = utcnow()
        for i in range(COUNT):
            trainee = User(email=f"t{i}@bench.test", name=f"Trainee Number {i}", role="trainee", password_hash=None)
            db.session.add(trainee)
            db.session.flush()
            db.session.add_all([CohortMember(cohort_id=cohort.id, user_id=trainee.id), Credit(
                user_id=trainee.id, module_id="bcma-barcodes", content_version="bench", module_version="1.0",
                activity_title="BCMA and machine-readable technology", activity_number="0000-0000-26-005-H05-T",
                activity_type="knowledge", topic_code="05", topics=[], contact_hours=2.0, ceus=0.2,
                score_percent=91.7, completed_at=now, verification_code=new_code())])
        db.session.commit()
        cohort_id = cohort.id
    client = app.test_client()
    page = client.get("/login").text
    token = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"csrf_token": token, "email": "sup@bench.test", "password": "bench-password-1"})
    tracemalloc.start()
    started = time.perf_counter()
    response = client.get(f"/cohorts/{cohort_id}/exports/certificates.zip", buffered=False)
    total = 0
    for chunk in response.response:
        total += len(chunk)
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    response.close()
    print(f"certificates_zip: {COUNT} certificates, {total / 1e6:.1f} MB archive streamed in {elapsed:.1f} s "
          f"({elapsed / COUNT * 1000:.0f} ms each); peak traced memory {peak / 1e6:.1f} MB "
          f"({peak / total:.0%} of the archive) {'OK' if peak < total / 4 else 'NOT STREAMING'}")


if __name__ == "__main__":
    main()
