"""Every process a benchmark starts, stopped whatever happens: a normal end, an error, the global
deadline, Ctrl-C or SIGTERM.

Children run in their own sessions (process groups), so a terminal's Ctrl-C reaches only the
benchmark, which then stops them in order (workers before the Redis they use), and so a worker's
own children go with it. With BENCH_SHOW_PROCESSES=1 each start is announced on stderr
(`bench: started NAME (pid N)`): the cleanup test reads those lines.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path


class DeadlineExceeded(Exception):
    """The benchmark ran past its global deadline."""


class Children:
    def __init__(self) -> None:
        self.started: list[tuple[str, subprocess.Popen]] = []
        self.stopping = False

    def start(self, name: str, argv: Sequence[str], **popen_args) -> subprocess.Popen:
        process = subprocess.Popen(list(argv), start_new_session=True, **popen_args)
        return self.adopt(name, process)

    def adopt(self, name: str, process: subprocess.Popen) -> subprocess.Popen:
        """Take charge of a process started elsewhere (in its own session), e.g. the embedded Redis."""
        self.started.append((name, process))
        if os.environ.get("BENCH_SHOW_PROCESSES") == "1":
            print(f"bench: started {name} (pid {process.pid})", file=sys.stderr, flush=True)
        return process

    def stop(self, process: subprocess.Popen, grace: float = 3.0) -> None:
        """SIGTERM to its whole group, SIGKILL after `grace` seconds."""
        if process.poll() is None:
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(5)
        # The leader may be gone while a child of its group lives on.
        _signal_group(process, signal.SIGKILL)
        self.started = [(n, p) for n, p in self.started if p is not process]

    def stop_all(self) -> None:
        """Newest first: workers stop before the receiver and the Redis they talk to."""
        self.stopping = True
        for _, process in reversed(list(self.started)):
            self.stop(process)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(process.pid, signum)


def stop_on_signals(children: Children, deadline_seconds: float) -> None:
    """SIGTERM and SIGINT end the run (cleanup runs in the callers' `finally`); so does SIGALRM
    at the global deadline, with a short grace for the run to report what is stuck first."""

    def on_stop(signum, frame):
        if children.stopping:
            return  # already cleaning up: let it finish
        children.stopping = True  # a second signal must not cut the cleanup short
        raise SystemExit(128 + signum)

    def on_alarm(signum, frame):
        if not children.stopping:
            raise DeadlineExceeded(f"the benchmark ran past its deadline of {deadline_seconds:g} s")

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(max(1, int(deadline_seconds)))


def wait_for(condition, what: str, timeout: float = 30.0, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"Timed out after {timeout:g} s waiting for {what}.")
        time.sleep(every)


def rss_kib(pid: int) -> int:
    """Resident memory of one process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"No VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time one process has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat(5); the split starts at field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
