"""The benchmarks clean up after themselves: a SIGTERM mid-run leaves no process behind (the embedded
Redis, the receivers and the workers included). No timing is checked here: that is bench/'s job."""

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def test_a_terminated_pipeline_benchmark_stops_every_process_it_started():
    # SQLite and an embedded Redis of its own: never the suite's database or Redis.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["BENCH_SHOW_PROCESSES"] = "1"
    bench = subprocess.Popen(
        [sys.executable, "bench/pipeline.py", "-n", "300", "--latency-ms", "100", "--sequential-n", "5"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in bench.stderr], daemon=True).start()
    started: dict[str, int] = {}
    try:
        deadline = time.monotonic() + 60
        while "worker 1" not in started:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if line.startswith("bench: started "):
                name, _, pid = line.removeprefix("bench: started ").rpartition(" (pid ")
                started[name] = int(pid.rstrip(")\n"))
        bench.send_signal(signal.SIGTERM)
        assert bench.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        if bench.poll() is None:
            bench.kill()
            bench.wait()
    assert {"redis-server", "receiver (100 ms)", "receiver (0 ms)", "worker 1"} <= set(started)
    survivors = {name: pid for name, pid in started.items() if group_alive(pid)}
    assert survivors == {}
    assert not list((ROOT / ".run").glob(f"bench-{bench.pid}.sqlite3*"))


def test_cpu_seconds_reads_a_process_cpu_time_from_proc():
    from bench.processes import cpu_seconds

    before = cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:  # busy: 0.3 s of CPU
        pass
    used = cpu_seconds(os.getpid()) - before
    assert 0.2 <= used <= 5  # clock ticks are 10 ms; a loaded machine adds system time
