"""`manage.py demo` (what ./scripts/demo runs) tells the truth: a busy port stops it with a non-zero
exit and the --port option named, "Ready" comes only once its own server answers, the routine logs
go to files, and the login is the last thing printed."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from django.conf import settings

from tests.conftest import subprocess_env

MANAGE = str(settings.BASE_DIR / "manage.py")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def demo_env(tmp_path) -> dict[str, str]:
    # A database of its own (the demo migrates it), the test Redis, DEBUG as in a local demo.
    return subprocess_env(
        DATABASE_URL=f"sqlite:///{tmp_path}/demo.sqlite3", DEBUG="true", EMULATOR_ENABLED="true"
    )


def test_a_busy_port_stops_the_demo_with_a_non_zero_exit_and_names_the_option(tmp_path):
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        port = other_program.getsockname()[1]
        done = subprocess.run(
            [sys.executable, MANAGE, "demo", f"--port={port}", "--no-seed", f"--logs={tmp_path}"],
            env=demo_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode != 0
    assert f"Port {port} is already in use" in done.stderr
    assert f"./scripts/demo --port={port + 1}" in done.stderr
    assert "Ready" not in done.stdout


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the demo would start its own embedded Redis")
def test_the_demo_says_ready_once_it_answers_and_prints_the_login_last(tmp_path):
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, MANAGE, "demo", f"--port={port}", "--no-seed", f"--logs={tmp_path}"],
        env=demo_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            assert line, f"the demo stopped: {''.join(lines)}{demo.stderr.read()}"
            lines.append(line)
            if line.startswith("Log in as admin"):
                break
        printed = "".join(lines)
        assert "Ready: http://127.0.0.1:" in printed
        assert lines[-1].startswith("Log in as admin / ")  # the password, last on screen
        # Its own server answered before "Ready"; the worker's routine lines are in its log file.
        assert "Listening on" not in printed and "Worker" not in printed
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        time.sleep(1)
        assert "Listening on" in (tmp_path / "demo-worker.log").read_text()
    finally:
        demo.send_signal(signal.SIGINT)
        out, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0 and "Stopped." in out


@pytest.mark.parametrize("first", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_signals_while_it_stops_do_not_leave_the_embedded_redis_running(tmp_path, first):
    """Ctrl-C or SIGTERM stops the demo; more of either while it stops (a second Ctrl-C, as people
    press when stopping takes a moment) is ignored, so the clean-up ends with its own Redis stopped."""
    from events.embedded_redis import _answers

    socket_path = settings.EMBEDDED_REDIS_SOCKET
    if socket_path.exists() and _answers(socket_path):
        pytest.skip(f"a demo of this checkout already runs its Redis on {socket_path}")
    port = free_port()
    env = {k: v for k, v in demo_env(tmp_path).items() if k != "REDIS_URL"}  # its own embedded Redis
    env["PYTHONUNBUFFERED"] = "1"  # "Stopping..." is in the file when it is written
    output = tmp_path / "demo.out"  # a file, not a pipe: a Redis left running would hold a pipe open
    with open(output, "w") as out:
        # A process group of its own, as a terminal's foreground job: a signal sent to the group
        # reaches the demo and its worker and web server, as Ctrl-C does (the Redis has its own).
        demo = subprocess.Popen(
            [sys.executable, MANAGE, "demo", f"--port={port}", "--no-seed", f"--logs={tmp_path}"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def printed_until(text: str) -> str:
        deadline = time.monotonic() + 90
        while text not in output.read_text() and demo.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert text in output.read_text(), output.read_text()
        return output.read_text()

    try:
        printed_until("Log in as admin")
        assert _answers(socket_path)

        os.killpg(demo.pid, first)
        printed_until("Stopping...")
        # The clean-up runs now (the worker takes a moment to stop): signal it again and again.
        for repeat in range(20):
            if demo.poll() is not None:
                break
            os.killpg(demo.pid, (signal.SIGINT, signal.SIGTERM)[repeat % 2])
            time.sleep(0.05)
        demo.wait(timeout=60)

        assert "Stopped." in output.read_text(), output.read_text()
        assert not _answers(socket_path), "the demo left its embedded Redis running"
        assert not socket_path.exists()
    finally:
        # What a failing demo leaves behind: its worker and web server (its group), its Redis.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(demo.pid, signal.SIGKILL)
        demo.wait(timeout=10)
        if socket_path.exists() and _answers(socket_path):
            import redis

            redis.Redis(unix_socket_path=str(socket_path)).shutdown(nosave=True)
