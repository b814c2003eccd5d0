"""The bare baseline: POSTs with a plain requests.Session, no Django, no queue, no database.

    python bench/bare.py URL N CONNECTIONS

CONNECTIONS threads share one Session with that many pooled connections (1: a sequential loop).
It warms up, prints `ready`, waits for a line on stdin (so that several processes start together),
sends N requests and prints the seconds they took.
"""

import sys
import threading
import time

import requests
from requests.adapters import HTTPAdapter

IDFA = "D2CADB5F-410F-4963-AC0C-2A78534BDF1E"
BODY = (
    "s2s=1&event_token=f0ob4r&app_token=4w565xzmb54d&idfa=" + IDFA + "&created_at_unix=1700000000"
    "&callback_params=%7B%22order%22%3A%2242%22%7D&environment=sandbox"
).encode()
HEADERS = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Bearer " + "x" * 32}


ERRORS: list[str] = []


def post_many(session: requests.Session, url: str, count: int) -> None:
    try:
        for _ in range(count):
            response = session.post(url, data=BODY, headers=HEADERS, timeout=10)
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code} from {url}")
    except Exception as exc:  # a thread's failure must fail the run, not shrink it quietly
        ERRORS.append(f"{type(exc).__name__}: {exc}")


def run(url: str, n: int, connections: int) -> float:
    session = requests.Session()
    session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=connections, max_retries=0))
    shares = [n // connections + (1 if i < n % connections else 0) for i in range(connections)]
    warm = [threading.Thread(target=post_many, args=(session, url, 2)) for _ in range(connections)]
    for thread in warm:
        thread.start()
    for thread in warm:
        thread.join()
    if ERRORS:
        raise SystemExit(f"bare client: warm-up failed: {ERRORS[0]}")
    print("ready", flush=True)
    sys.stdin.readline()
    threads = [threading.Thread(target=post_many, args=(session, url, share)) for share in shares if share]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if ERRORS:
        raise SystemExit(f"bare client: {len(ERRORS)} thread(s) failed, first: {ERRORS[0]}")
    return elapsed


if __name__ == "__main__":
    print(f"{run(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])):.6f}", flush=True)
