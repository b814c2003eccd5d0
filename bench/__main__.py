"""Every benchmark, one after the other: `python -m bench [NAME ...]` (or ./scripts/bench).

NAME is pipeline, ingest or memory (default: all three; memory takes the longest, about 100,000
sends). Each runs as its own process, so each sets Django up its own way; a benchmark that fails
or gets stuck makes the whole run exit non-zero, and Ctrl-C or SIGTERM stops the one running
(which stops everything it started).
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = {
    "pipeline": ["bench/pipeline.py"],
    "ingest": ["bench/ingest.py"],
    "memory": ["bench/pipeline.py", "--memory"],
}


def main(names: list[str]) -> int:
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(
            f"Unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}.",
            file=sys.stderr,
        )
        return 2
    worst = 0
    for name in names or list(BENCHMARKS):
        print(f"== {name}", flush=True)
        process = subprocess.Popen([sys.executable, *BENCHMARKS[name]], cwd=ROOT)
        try:
            code = process.wait()
        except (KeyboardInterrupt, SystemExit):
            process.terminate()  # it stops its own children; wait for it to finish doing so
            process.wait()
            print(f"== {name} interrupted; every process it started is stopped", file=sys.stderr)
            return 130
        if code:
            print(f"== {name} failed (exit code {code})", file=sys.stderr, flush=True)
            worst = worst or code
    return worst


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    sys.exit(main(sys.argv[1:]))
