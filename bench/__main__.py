"""Run every benchmark: `python -m bench` (or `make bench`)."""

from bench import lesson_throughput, quiz_concurrency

if __name__ == "__main__":
    lesson_throughput.main()
    quiz_concurrency.main()
