"""Run every benchmark: `python -m bench` (or `make bench`)."""

from bench import lesson_throughput

if __name__ == "__main__":
    lesson_throughput.main()
