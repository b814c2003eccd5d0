"""The send job: a run that keeps many sends in flight, in order per key, and records them in batches.

Why threads over the one pooled `requests` Session: a send spends its time waiting on the MMP
(about 100 ms across the internet), during which a thread holds no GIL, so SEND_CONCURRENCY
threads keep that many requests in flight for the price of a few MB. The one outbound-HTTP
wrapper (events/transport.py), its allow-list, timeouts and error messages stay exactly as they
are, synchronous and tested; an async client would need a second transport to keep in step. The
threads only send and classify: every database write stays on the run's own thread, in batches.

A run starts from its job's delivery ids and then, while it has room and time (SEND_RUN_SECONDS),
claims any other due delivery too (events/engine/claims.py): one job per event (the test form,
`send_event`) gets the same concurrency as a batch, and the jobs of deliveries claimed early find
nothing left to do. RQ stays the queue and the scheduler; the Delivery row stays the truth.

    claim (one conditional update) -> prepare: build, write the attempt rows (one insert)
    -> send on the thread pool, within the limits (events/engine/limits.py)
    -> record the answers (one transaction per batch) -> retries to RQ's scheduler,
       and the next delivery of each order key that ended goes next.
"""

import logging
import time
import uuid
from collections import Counter, deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from events import transport
from events.engine import claims, liveness
from events.engine.attempts import Finished, Prepared, give_back_unsent, prepare, record
from events.engine.limits import Limits
from events.engine.queues import enqueue_deliveries
from events.models import Outcome, SecurityToken
from events.providers import Verdict, get_provider
from events.transport import TransportError

log = logging.getLogger(__name__)

# Answers are recorded in batches of up to this many, or after this long, whichever comes first.
RECORD_BATCH = 64
RECORD_EVERY_SECONDS = 0.1
# A run whose last look for more due deliveries came back short looks again at most this often.
TOP_UP_EVERY_SECONDS = 0.2


def send_deliveries(delivery_ids: list[int]) -> dict[str, int]:
    """RQ job: one attempt for each of these deliveries that is due, and for any other due one
    while the run has room. Returns a count per result."""
    close_old_connections()
    try:
        return SendRun(delivery_ids).run()
    finally:
        close_old_connections()


def send_one(delivery_id: int) -> str:
    """One attempt for one delivery; 'skipped' when another job has it or it is not due."""
    return SendRun([delivery_id], top_up=False).run_one(delivery_id)


def send(prepared: Prepared) -> Finished:
    """On a pool thread: the request, and the provider's verdict on its answer."""
    provider = get_provider(prepared.delivery.app)
    answer = error = None
    try:
        answer = transport.send(prepared.request, prepared.wire)
        verdict = provider.classify(answer)
    except TransportError as exc:
        error = exc
        verdict = provider.classify_error(exc)
    except Exception as exc:  # a bug of ours must not leave the delivery stuck in "sending"
        log.exception("Sending delivery %s failed unexpectedly", prepared.delivery.pk)
        error = TransportError("other", prepared.masker.text(f"s2sadmin failed while sending: {exc!r}"))
        verdict = Verdict(Outcome.RETRY, "", "s2sadmin hit an internal error; it will try again.")
    return Finished(prepared, answer, error, verdict)


class SendRun:
    def __init__(self, delivery_ids: list[int], *, top_up: bool = True):
        self.token = uuid.uuid4().hex
        self.worker = liveness.current_name()
        self.asked = set(delivery_ids)
        self.ids = deque(dict.fromkeys(delivery_ids))  # to claim, in order, once each
        self.top_up = top_up
        self.concurrency = max(1, settings.SEND_CONCURRENCY)
        self.deadline = time.monotonic() + settings.SEND_RUN_SECONDS
        self.limits = Limits()
        self.waiting: deque[Prepared] = deque()  # attempt row written, not sent yet
        self.in_flight: dict[Future, Prepared] = {}
        self.answered: list[Finished] = []
        self.results: dict[int, str] = {}
        self.used_tokens: set[int] = set()
        # Apps and event tokens loaded by this run (a run lasts seconds: a change made meanwhile,
        # such as a deactivated app, applies from the next run).
        self.known: tuple[dict, dict] = ({}, {})
        # Apps found without a result callback endpoint: not looked up again by this run's batches.
        self.without_callbacks: set[int] = set()
        self._claimed_any = False
        self._short_top_up = False
        # Order keys that moved on since the last look for due deliveries: their next ones are due.
        self._moved_on: set[str] = set()
        self._last_top_up = 0.0
        self._last_record = time.monotonic()

    def run(self) -> dict[str, int]:
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="send")
        try:
            self._loop(pool)
        except BaseException:
            # The job is stopping (its timeout, a database error): what was claimed but not sent
            # goes back at once. Requests in flight may have reached the MMP: their open attempt
            # rows are completed as ambiguous by the reconciler.
            give_back_unsent(self.waiting)
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        if self.used_tokens:
            SecurityToken.objects.filter(pk__in=self.used_tokens).update(last_used_at=timezone.now())
        counts = Counter(self.results.values())
        counts["skipped"] = len(self.asked - self.results.keys())
        return {result: count for result, count in counts.items() if count}

    def run_one(self, delivery_id: int) -> str:
        self.run()
        return self.results.get(delivery_id, "skipped")

    def _loop(self, pool: ThreadPoolExecutor) -> None:
        while True:
            idle = not (self.in_flight or self.waiting or self.answered)
            self._claim_more(force=idle or bool(self._moved_on))
            self._start_sends(pool)
            if self.in_flight:
                self._collect_answers()
            elif self.waiting:
                time.sleep(0.01)  # held back by a limit: a slot, or the app's next second
            # Recorded when a batch is full, every RECORD_EVERY_SECONDS, or when nothing else is
            # going on; in between, answers wait while new sends start.
            if self.answered and (
                len(self.answered) >= RECORD_BATCH
                or not (self.in_flight or self.waiting)
                or time.monotonic() - self._last_record >= RECORD_EVERY_SECONDS
            ):
                self._record()
            liveness.beat()
            if not (
                self.in_flight
                or self.waiting
                or self.answered
                or self.ids
                or self._claimed_any
                or self._moved_on
            ):
                return

    def _collect_answers(self) -> None:
        done, _ = wait(self.in_flight, timeout=RECORD_EVERY_SECONDS, return_when=FIRST_COMPLETED)
        for future in done:
            prepared = self.in_flight.pop(future)
            self.limits.done(prepared.host)
            finished = future.result()
            status = finished.answer.status if finished.answer is not None else None
            self.limits.note(prepared.host, finished.verdict, status)
            self.answered.append(finished)

    def _claim_more(self, *, force: bool) -> None:
        """Fill the room with the job's own ids first, then, while there is time, any due delivery."""
        self._claimed_any = False
        room = self.concurrency - len(self.in_flight) - len(self.waiting)
        if room <= 0:
            return
        now = time.monotonic()
        if now >= self.deadline and self.ids:
            # Out of time: this job's other ids go to a job of their own, rather than holding this
            # worker past its timeout.
            enqueue_deliveries(list(self.ids))
            self.ids.clear()
        if self.ids:
            take = [self.ids.popleft() for _ in range(min(room, len(self.ids)))]
            self._prepare(claims.claim(self.token, self.worker, ids=take, limit=len(take), known=self.known))
            self._claimed_any = True  # even if none was due: the loop goes on to the rest
            return
        if not self.top_up or now >= self.deadline:
            self._hand_on(self._moved_on)
            self._moved_on = set()
            return
        # While work keeps coming, top up as soon as a quarter of the slots is free; once a top-up
        # found less than it asked for, look again only now and then (each look is a query).
        if not force and (
            room < max(1, self.concurrency // 4)
            or (self._short_top_up and now - self._last_top_up < TOP_UP_EVERY_SECONDS)
        ):
            return
        self._last_top_up = now
        self._moved_on = set()
        claimed = claims.claim(self.token, self.worker, limit=room, known=self.known)
        self._claimed_any = bool(claimed)
        self._short_top_up = len(claimed) < room
        self._prepare(claimed)

    def _prepare(self, deliveries) -> None:
        if deliveries:
            self.waiting.extend(
                prepare(
                    deliveries,
                    self.results,
                    paused=self.limits.pause_of,
                    without_callbacks=self.without_callbacks,
                )
            )

    def _start_sends(self, pool: ThreadPoolExecutor) -> None:
        held: list[Prepared] = []
        while self.waiting and len(self.in_flight) < self.concurrency:
            prepared = self.waiting.popleft()
            if not self.limits.may_send(prepared.host, prepared.delivery.app):
                held.append(prepared)
                continue
            if prepared.request.security_token_id:
                self.used_tokens.add(prepared.request.security_token_id)
            # The row was written when it was prepared; it tells when the request really left.
            prepared.attempt.started_at = timezone.now()
            self.in_flight[pool.submit(send, prepared)] = prepared
        self.waiting.extendleft(reversed(held))

    def _record(self) -> None:
        answered, self.answered = self.answered, []
        self._last_record = time.monotonic()
        recorded = record(answered, self.without_callbacks)
        self.results.update(recorded.statuses)
        # Each order key that moved on lets its next delivery go: claimed by this run while it has
        # time (a topping-up run finds it with its next look for due deliveries, made before the
        # run ends), otherwise by a job of its own.
        if self.top_up and time.monotonic() < self.deadline:
            self._moved_on |= recorded.ended_keys
        else:
            self._hand_on(recorded.ended_keys)

    def _hand_on(self, ended_keys: set[str]) -> None:
        """The next delivery of each of these order keys: to this run while it has time, otherwise
        to a job of its own."""
        following = claims.next_in_line(ended_keys)
        if not following:
            return
        if time.monotonic() < self.deadline:
            self.ids.extend(pk for pk in following if pk not in self.results)
        else:
            enqueue_deliveries(following)
