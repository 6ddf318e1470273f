"""Lesson page throughput against /healthz, same app, same gunicorn, same run.

Budget (DESIGN.md): a lesson page serves at >= 60% of the health check's throughput, because
Markdown is rendered once per content version, not per request. Needs `wrk` (apt-get install
wrk); the load generator shares the machine's cores with the server, so only the ratio means
anything.
"""

import http.cookiejar
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PORT = int(os.environ.get("BENCH_PORT", "8091"))
DURATION = os.environ.get("BENCH_DURATION", "5s")
ROUNDS = 3  # alternate the two routes and take medians: the machine's load drifts
LESSON = "/modules/bcma-barcodes/ndc-and-gtin"


def run(cmd: list[str], env: dict) -> str:
    return subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, cwd=ROOT).stdout


def sign_in(base: str) -> str:
    """Sign in as the demo trainee through the real form; return the session cookie value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "email": "trainee@demo.test",
                                   "password": "demo-password"}).encode()
    opener.open(f"{base}/login", data=data).read()
    return next(c.value for c in jar if c.name == "session")


def wrk(url: str, cookie: str) -> float:
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{DURATION}", "-H", f"Cookie: session={cookie}", url],
                         check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"non-2xx responses from {url}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    env = {**os.environ, "LMS_DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
           "LMS_SECRET_KEY": "bench-only-secret", "LMS_LOGIN_LIMIT_PER_IP": "1000 per minute"}
    run([str(BIN / "lms"), "db", "upgrade"], env)
    run([str(BIN / "lms"), "demo", "seed"], env)
    # The same command line as `lms serve`, minus the access log.
    server = subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{PORT}", "--workers", "2",
                               "--preload", "--log-level", "warning", "lms.wsgi:app"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{PORT}"
    try:
        for _ in range(50):
            try:
                urllib.request.urlopen(f"{base}/healthz").read()
                break
            except OSError:
                time.sleep(0.2)
        cookie = sign_in(base)
        for _ in range(20):  # the catalog is preloaded; this warms connection pools and caches
            urllib.request.urlopen(urllib.request.Request(f"{base}{LESSON}",
                                                          headers={"Cookie": f"session={cookie}"})).read()
        rounds = [(wrk(f"{base}/healthz", cookie), wrk(f"{base}{LESSON}", cookie)) for _ in range(ROUNDS)]
        health = statistics.median(h for h, _l in rounds)
        lesson = statistics.median(lesson for _h, lesson in rounds)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    ratio = lesson / health
    print(f"lesson_throughput: /healthz {health:,.0f} req/s, lesson {LESSON} {lesson:,.0f} req/s, "
          f"ratio {ratio:.2f} (budget >= 0.60) {'OK' if ratio >= 0.6 else 'OVER BUDGET'}")


if __name__ == "__main__":
    main()
