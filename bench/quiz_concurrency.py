"""50 trainees take and submit a post-test at the same time against gunicorn on SQLite.

Budget (DESIGN.md): no errors, no lost or duplicated answers or attempts. Every trainee also
double-submits, which must be harmless. Prints the counts and the throughput.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PORT = int(os.environ.get("BENCH_PORT", "8092"))
TRAINEES = int(os.environ.get("BENCH_TRAINEES", "50"))
MODULE = "informatics-role"
CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


class Trainee:
    def __init__(self, base: str, email: str):
        self.base, self.email = base, email
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.token = ""

    def get(self, path: str) -> str:
        page = self.opener.open(self.base + path, timeout=60).read().decode()
        match = CSRF.search(page)
        self.token = match.group(1) if match else self.token
        return page

    def post(self, path: str, data: dict) -> tuple[str, str]:
        body = urllib.parse.urlencode({**data, "csrf_token": self.token}, doseq=True).encode()
        with self.opener.open(self.base + path, data=body, timeout=60) as response:
            page = response.read().decode()
            match = CSRF.search(page)
            self.token = match.group(1) if match else self.token
            return response.geturl(), page

    def run(self) -> None:
        self.get("/login")
        self.post("/login", {"email": self.email, "password": "bench-password-1"})
        url, page = self.post(f"/quizzes/post-test/{MODULE}", {"mode": "exam"})
        attempt = re.search(r"/attempts/(\d+)", url).group(1)
        total = int(re.search(r"Question 1 of (\d+)", page).group(1))
        for position in range(1, total + 1):
            page = self.get(f"/attempts/{attempt}?n={position}")
            item_id = re.search(r'name="item_id" value="([^"]+)"', page).group(1)
            fields = {"item_id": item_id}
            if 'name="answer" id="opt-' in page:
                fields["answer"] = re.search(r'name="answer" id="opt-([^"]+)"', page).group(1)
            elif 'id="tf-true"' in page:
                fields["answer"] = "true"
            elif 'id="answer"' in page:
                fields["answer"] = "1"
            else:  # matching: the first choice everywhere; ordering: positions 1, 2, 3... as shown
                names = re.findall(r'<select id="([^"]+)"', page)
                for index, name in enumerate(names):
                    fields[name] = "0" if name.startswith("match") else str(index + 1)
            self.post(f"/attempts/{attempt}/answer/{position}", fields)
        self.get(f"/attempts/{attempt}/review")
        self.post(f"/attempts/{attempt}/submit", {})
        self.post(f"/attempts/{attempt}/submit", {})  # the double click


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-quiz-"))
    db_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    env = {**os.environ, "LMS_DATABASE_URL": db_url, "LMS_SECRET_KEY": "bench-only-secret",
           "LMS_LOGIN_LIMIT_PER_IP": "10000 per minute"}
    subprocess.run([str(BIN / "lms"), "db", "upgrade"], env=env, check=True, capture_output=True, cwd=ROOT)
    setup = ("from lms import create_app; from lms.extensions import db; from lms.accounts.models import User;"
             "from lms.accounts.services import hash_password; app = create_app(); ctx = app.app_context(); ctx.push();"
             "h = hash_password('bench-password-1');"
             f"db.session.add_all([User(email=f'bench{{i}}@hospital.test', name=f'Bench {{i}}', role='trainee',"
             f" password_hash=h) for i in range({TRAINEES})]); db.session.commit()")
    subprocess.run([str(BIN / "python"), "-c", setup], env=env, check=True, cwd=ROOT)
    server = subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{PORT}", "--workers", "4", "--preload",
                               "--log-level", "warning", "--timeout", "120", "lms.wsgi:app"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{PORT}"
    errors: list[str] = []
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz").read()
                break
            except OSError:
                time.sleep(0.2)
        trainees = [Trainee(base, f"bench{i}@hospital.test") for i in range(TRAINEES)]

        def run(trainee: Trainee) -> None:
            try:
                trainee.run()
            except Exception as error:  # noqa: BLE001 - every failure is counted and printed
                errors.append(f"{trainee.email}: {error!r}")

        threads = [threading.Thread(target=run, args=(t,)) for t in trainees]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    engine = create_engine(db_url)
    with engine.connect() as conn:
        attempts, submitted = conn.execute(text(
            "select count(*), sum(case when status = 'submitted' then 1 else 0 end) from quiz_attempt")).one()
        served = sum(len(json.loads(row[0])) for row in conn.execute(text("select item_ids from quiz_attempt")))
        answers = conn.execute(text("select count(*) from attempt_answer")).scalar_one()
        duplicates = conn.execute(text("select count(*) from (select attempt_id, item_id from attempt_answer "
                                       "group by attempt_id, item_id having count(*) > 1) d")).scalar_one()
    engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    ok = not errors and attempts == submitted == TRAINEES and answers == served and duplicates == 0
    print(f"quiz_concurrency: {TRAINEES} trainees, {attempts} attempts ({submitted} submitted), "
          f"{answers} answers saved of {served} served, {duplicates} duplicates, {len(errors)} errors, "
          f"{elapsed:.1f} s ({answers / elapsed:.0f} answers/s) {'OK' if ok else 'FAILED'}")
    for error in errors[:5]:
        print("  ", error)


if __name__ == "__main__":
    main()
