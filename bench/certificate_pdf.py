"""Time one certificate PDF against a one-line fpdf2 document built in the same run.

Budget: a certificate (landscape page, bundled DejaVu subsets, QR code) renders in <= 100 ms,
median of BENCH_ROUNDS (default 50) after one warm-up that loads the fonts. The baseline is the
cheapest fpdf2 document there is (one page, one line in a core font), so the ratio says how much
of the time is the certificate's own work; the absolute number is what the budget is about.
"""

import os
import statistics
import time
from datetime import date

from fpdf import FPDF

from lms.certificates.pdf import CertificateData, certificate_pdf

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "50"))
BUDGET_MS = 100.0
DATA = CertificateData(
    trainee_name="Siobhán Ó Ceallaigh", activity_title="BCMA and machine-readable technology at the bedside",
    activity_number="0000-0000-26-005-H05-T", activity_type="knowledge", contact_hours=2.0, ceus=0.2,
    completed_on=date(2026, 11, 25), provider_name="Pharmacy Informatics Academy", accredited=False,
    verification_code="7KQ4-M2XD-9PLA", verify_url="https://academy.test/verify/7KQ4-M2XD-9PLA",
    topic="Medication safety technology", score_percent=91.7)


def one_line_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Certificate of Completion")
    return bytes(pdf.output())


def median_ms(build, rounds: int) -> float:
    build()  # warm-up: imports, font prototypes
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        build()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    started = time.perf_counter()
    certificate_pdf(DATA)
    first = (time.perf_counter() - started) * 1000
    baseline = median_ms(one_line_pdf, ROUNDS)
    certificate = median_ms(lambda: certificate_pdf(DATA), ROUNDS)
    size = len(certificate_pdf(DATA))
    print(f"certificate_pdf: {certificate:.1f} ms per certificate (median of {ROUNDS}, {size / 1024:.0f} KB; "
          f"first in process {first:.0f} ms), one-line fpdf2 document {baseline:.2f} ms, "
          f"ratio {certificate / baseline:.0f}x; budget <= {BUDGET_MS:.0f} ms "
          f"{'OK' if certificate <= BUDGET_MS else 'OVER BUDGET'}")


if __name__ == "__main__":
    main()
