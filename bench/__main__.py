"""Run every benchmark: `python -m bench` (or `make bench`)."""

from bench import certificate_pdf, certificates_zip, dashboard_scale, lesson_throughput, quiz_concurrency

if __name__ == "__main__":
    lesson_throughput.main()
    quiz_concurrency.main()
    certificate_pdf.main()
    certificates_zip.main()
    dashboard_scale.main()
