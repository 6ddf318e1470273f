"""Stream a ZIP of 1,000 certificates and report the peak memory while doing it.

Budget (issue 5): the bulk ZIP streams without holding every certificate in memory. The peak
is printed beside the size of the whole archive; a streamed export peaks far below it.
"""

import gc
import os
import re
import resource
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from lms import create_app
from lms.accounts.models import Cohort, CohortMember, CohortSupervisor, User
from lms.accounts.services import hash_password
from lms.certificates.codes import new_code
from lms.db import utcnow
from lms.extensions import db
from lms.progress.models import Credit

COUNT = int(os.environ.get("BENCH_CERTIFICATES", "1000"))
SMALL = COUNT // 10  # a first, small export sets the memory high-water mark a streamed big one should not pass


def stream(client, url: str) -> tuple[int, float, int]:
    """Download an export chunk by chunk; return (bytes, seconds, growth of the peak RSS in bytes)."""
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    started = time.perf_counter()
    response = client.get(url, buffered=False)
    total = sum(len(chunk) for chunk in response.response)  # a real client writes each chunk out and forgets it
    elapsed = time.perf_counter() - started
    response.close()
    return total, elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before


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
                score_percent=91.7, completed_at=now - timedelta(days=400 if i < SMALL else 0),
                verification_code=new_code())])
        db.session.commit()
        cohort_id = cohort.id
    client = app.test_client()
    page = client.get("/login").text
    token = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"csrf_token": token, "email": "sup@bench.test", "password": "bench-password-1"})
    old = (now - timedelta(days=200)).date().isoformat()
    small_bytes, _t, small_growth = stream(client, f"/cohorts/{cohort_id}/exports/certificates.zip?end={old}")
    total, elapsed, growth = stream(client, f"/cohorts/{cohort_id}/exports/certificates.zip")
    # Holding the PDFs would grow memory by at least the extra archive bytes; streaming grows it only by
    # the per-credit rows read up front (a couple of KB each).
    extra = total - small_bytes
    streaming = growth < extra / 4
    print(f"certificates_zip: {COUNT} certificates, {total / 1e6:.1f} MB archive streamed in {elapsed:.1f} s "
          f"({elapsed / COUNT * 1000:.0f} ms each); peak memory grew {small_growth / 1e6:.1f} MB for the first "
          f"{SMALL} ({small_bytes / 1e6:.1f} MB) and {growth / 1e6:.1f} MB more for all {COUNT} "
          f"({growth / extra:.0%} of the extra {extra / 1e6:.1f} MB) "
          f"{'OK: streamed' if streaming else 'NOT STREAMING'}")

if __name__ == "__main__":
    main()
