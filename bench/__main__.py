"""Run every benchmark, each in its own process (peak-memory figures must not inherit another's high-water
mark): `python -m bench` (or `make bench`)."""

import subprocess
import sys

BENCHMARKS = ["lesson_throughput", "quiz_concurrency", "certificate_pdf", "certificates_zip", "dashboard_scale",
              "sandbox_instances", "hl7_engine"]

if __name__ == "__main__":
    failed = [name for name in BENCHMARKS if subprocess.run([sys.executable, "-m", f"bench.{name}"]).returncode]
    sys.exit(f"benchmarks that crashed: {', '.join(failed)}" if failed else 0)
