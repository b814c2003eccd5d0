"""Events per second through the whole pipeline against bare clients, at an MMP's latency and at none.

One run, the same receivers for both sides: at --latency-ms (100 by default: a round trip to a real
MMP), a bare requests client with as many connections as the engine's concurrency (SEND_CONCURRENCY)
in 1 and in --workers processes, a bare sequential loop, and the pipeline with 1 and with --workers
worker processes; at zero latency, a bare sequential loop and the pipeline with 1 worker. Like is
compared with like: the same number of processes on both sides. The pipeline: validate, Delivery
rows (the API's bulk insert, or one by one), enqueue after commit, real SendWorker processes, HTTP, Attempt row, final status. Events
spread over 1,000 devices x 3 event tokens.

    .venv/bin/python bench/pipeline.py [-n 1000] [--latency-ms 100] [--workers 2] [--one-by-one]
    .venv/bin/python bench/pipeline.py --memory [--memory-at 10000,100000]
    .venv/bin/python bench/pipeline.py --cpu [-n 4000] [--repeat 3]

--memory instead prints one worker's resident memory after 10,000 and after 100,000 sends.
--cpu instead prints one worker's CPU seconds (user + system, from /proc) per 1,000 events at zero
latency, for each of --repeat runs and their median: unlike events/s, it hardly moves when other
processes share the cores, so it is the figure to compare two versions of the engine by.
Last lines: `pipeline/concurrent ratio at 100 ms: X.XX` and `pipeline/bare ratio: X.XX` (zero
latency). A run that cannot finish says which deliveries are stuck and why and exits with 2; on
Ctrl-C or SIGTERM every process it started is stopped.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import setup
from bench.processes import Children, DeadlineExceeded, cpu_seconds, rss_kib, stop_on_signals
from bench.progress import Stuck, wait_delivered


def pipeline_rate(children: Children, base_url: str, n: int, workers: int) -> float:
    app = setup.fresh_app()
    setup.point_at(base_url)
    started_workers = setup.start_workers(children, workers, f"{workers}w")
    try:
        started = time.perf_counter()
        (setup.insert_one_by_one if ARGS.one_by_one else setup.insert_batch)(app, 0, n)
        wait_delivered(n, started_workers, deadline=DEADLINE, stall_seconds=ARGS.stall_seconds)
        return n / (time.perf_counter() - started)
    finally:
        for worker in started_workers:
            children.stop(worker)


def throughput(children: Children) -> None:
    latency = ARGS.latency_ms
    slow_url = setup.start_receiver(children, latency)
    fast_url = setup.start_receiver(children, 0)
    setup.setup_django(fast_url)
    n, workers, connections = ARGS.n, ARGS.workers, setup.send_concurrency()
    sequential_n = min(n, ARGS.sequential_n)
    event_url = "{}/emulator/adjust/event"
    print(
        f"events: {n} over {setup.DEVICES} devices x {len(setup.EVENT_TOKENS)} event tokens  "
        f"database: {setup.database_name()}  path: {'one by one' if ARGS.one_by_one else 'API batches'}  concurrency: {connections}",
        flush=True,
    )

    def line(what: str, rate: float) -> float:
        print(f"  {what:<48} {rate:8.1f} events/s", flush=True)
        return rate

    print(f"at {latency:g} ms:")
    concurrent = line(
        f"bare client, {connections} connections, 1 process",
        setup.bare_rate(children, event_url.format(slow_url), n, connections, 1),
    )
    concurrent_n = line(
        f"bare client, {connections} connections, {workers} processes",
        setup.bare_rate(children, event_url.format(slow_url), n, connections, workers),
    )
    line(
        f"bare sequential loop, 1 process ({sequential_n} events)",
        setup.bare_rate(children, event_url.format(slow_url), sequential_n, 1, 1),
    )
    one = line("pipeline, 1 worker", pipeline_rate(children, slow_url, n, 1))
    many = line(f"pipeline, {workers} workers", pipeline_rate(children, slow_url, n, workers))
    print(f"  {workers} workers / 1 worker: {many / one:.2f}   {workers} workers / {workers}-process client: "
          f"{many / concurrent_n:.2f}")  # fmt: skip
    print("at 0 ms:")
    bare = line(
        "bare sequential loop, 1 process", setup.bare_rate(children, event_url.format(fast_url), n, 1, 1)
    )
    piped = line("pipeline, 1 worker", pipeline_rate(children, fast_url, n, 1))
    print(f"pipeline/concurrent ratio at {latency:g} ms: {one / concurrent:.2f}")
    print(f"pipeline/bare ratio: {piped / bare:.2f}")


def memory(children: Children) -> None:
    """One worker at zero latency; its resident memory at each checkpoint, and the growth."""
    checkpoints = sorted(int(x) for x in ARGS.memory_at.split(","))
    base_url = setup.start_receiver(children, 0)
    setup.setup_django(base_url)
    app = setup.fresh_app()
    (worker,) = setup.start_workers(children, 1, "memory")
    chunk, inserted, readings = 2000, 0, []
    print(f"memory: one worker, {setup.database_name()}, checkpoints {checkpoints}", flush=True)
    try:
        for checkpoint in checkpoints:

            def keep_fed(delivered: int, target: int = checkpoint) -> None:
                # Enough queued ahead that the worker never waits, not so much that rows pile up.
                nonlocal inserted
                while inserted < target and inserted - delivered < 2 * chunk:
                    count = min(chunk, target - inserted)
                    setup.insert_batch(app, inserted, count)
                    inserted += count

            keep_fed(0)
            wait_delivered(checkpoint, [worker], deadline=DEADLINE, stall_seconds=ARGS.stall_seconds,
                           on_progress=keep_fed)  # fmt: skip
            readings.append(rss_kib(worker.pid))
            print(
                f"  worker resident memory after {checkpoint:>7} sends: {readings[-1] / 1024:7.1f} MiB",
                flush=True,
            )
    finally:
        children.stop(worker)
    growth = (readings[-1] - readings[0]) / readings[0] * 100
    print(f"memory growth from {checkpoints[0]} to {checkpoints[-1]} sends: {growth:+.1f}%")


def cpu(children: Children) -> None:
    """One worker at zero latency: its CPU seconds per 1,000 events, --repeat times, and the median."""
    base_url = setup.start_receiver(children, 0)
    setup.setup_django(base_url)
    n, per_thousand = ARGS.n, []
    print(f"cpu: one worker, {setup.database_name()}, {n} events per run", flush=True)
    for run in range(ARGS.repeat):
        app = setup.fresh_app()
        (worker,) = setup.start_workers(children, 1, f"cpu{run}")
        try:
            before = cpu_seconds(worker.pid)  # its start (Django, imports) is not counted
            started = time.perf_counter()
            setup.insert_batch(app, 0, n)
            wait_delivered(n, [worker], deadline=DEADLINE, stall_seconds=ARGS.stall_seconds)
            used, wall = cpu_seconds(worker.pid) - before, time.perf_counter() - started
        finally:
            children.stop(worker)
        per_thousand.append(used / n * 1000)
        print(f"  run {run + 1}: {per_thousand[-1]:.3f} CPU s per 1000 events ({n / wall:.0f} events/s)",
              flush=True)  # fmt: skip
    print(f"worker CPU seconds per 1000 events (median of {len(per_thousand)}): "
          f"{statistics.median(per_thousand):.3f}")  # fmt: skip


def main() -> int:
    children = Children()
    stop_on_signals(children, ARGS.deadline + 30)  # the waits report first; the alarm is a backstop
    code = 1
    try:
        setup.start_redis(children)
        (memory if ARGS.memory else cpu if ARGS.cpu else throughput)(children)
        code = 0
    except Stuck as stuck:
        print(stuck, file=sys.stderr)
        code = 2
    except DeadlineExceeded as exc:
        print(f"Stuck: {exc}.", file=sys.stderr)
        code = 2
    finally:
        children.stop_all()
        setup.remove_sqlite()
        for log in setup.WORKER_LOGS:  # kept only to explain a stuck run
            if code == 2 and log.exists():
                print(f"worker log: {log}", file=sys.stderr)
            else:
                log.unlink(missing_ok=True)
    return code


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="events per measurement (default 1000)")
    parser.add_argument(
        "--latency-ms", type=float, default=100, help="the receiver's answer delay (default 100)"
    )
    parser.add_argument("--workers", type=int, default=2,
                        help="worker processes of the multi-worker run, and processes of the bare client "
                             "set against it (default 2)")  # fmt: skip
    parser.add_argument("--sequential-n", type=int, default=100,
                        help="events of the bare sequential loop at latency (default 100: ten seconds)")  # fmt: skip
    parser.add_argument("--one-by-one", action="store_true",
                        help="create_delivery per event (the test form's path) instead of the API's bulk "
                             "insert and batched enqueue")  # fmt: skip
    parser.add_argument("--memory", action="store_true", help="one worker's resident memory instead")
    parser.add_argument("--memory-at", default="10000,100000", help="sends at which to read it")
    parser.add_argument("--cpu", action="store_true",
                        help="one worker's CPU seconds per 1000 events at zero latency instead")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3, help="runs of --cpu (default 3)")
    parser.add_argument("--deadline", type=float, default=None,
                        help="seconds the whole run may take (default 900; 3600 with --memory)")  # fmt: skip
    parser.add_argument("--stall-seconds", type=float, default=60,
                        help="report the stuck deliveries when none is delivered for this long (default 60)")  # fmt: skip
    ARGS = parser.parse_args()
    if ARGS.deadline is None:
        ARGS.deadline = 3600 if ARGS.memory else 900
    DEADLINE = time.monotonic() + ARGS.deadline
    sys.exit(main())
