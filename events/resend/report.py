"""What a bulk resend's page shows: the preview's counts (planned, per MMP and environment, refusals
and skips by rule with an example each) and, once started, its progress."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q

from events.models import Delivery, Environment, Provider, Status
from events.reporting.progress import ProgressBar
from events.resend.models import BulkResend, ResendItem
from events.resend.plan import RULE_LABELS

Plan, Outcome = ResendItem.Plan, ResendItem.Outcome
EXAMPLES = 5


@dataclass
class RuleGroup:
    rule: str
    label: str
    count: int = 0
    example: str = ""  # the words of the first one (the provider's, for the MMP's rules)
    deliveries: list[int] = field(default_factory=list)  # the first few, to open


@dataclass
class Summary:
    total: int
    planned: dict[str, int]  # plan -> deliveries
    production: int  # resends of production events (retry now makes no new event)
    sandbox: int
    by_mmp: list[tuple[str, int, int]]  # (MMP label, resends, of them production)
    refused: list[RuleGroup]
    skipped: list[RuleGroup]

    @property
    def to_resend(self) -> int:
        return self.planned.get(Plan.RESEND, 0)

    @property
    def to_retry(self) -> int:
        return self.planned.get(Plan.RETRY, 0)

    @property
    def refused_count(self) -> int:
        return self.planned.get(Plan.REFUSE, 0)

    @property
    def skipped_count(self) -> int:
        return self.planned.get(Plan.SKIP, 0)

    @property
    def anything_to_do(self) -> bool:
        return bool(self.to_resend or self.to_retry)


def summary(bulk: BulkResend) -> Summary:
    """The preview: one grouped read of the items, one read of the refused and skipped ones."""
    rows = (
        bulk.items.order_by()
        .values("plan", "original__environment", "original__app__provider")
        .annotate(n=Count("id"))
    )
    planned: dict[str, int] = defaultdict(int)
    per_mmp: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        planned[row["plan"]] += row["n"]
        if row["plan"] == Plan.RESEND:
            production = row["original__environment"] == Environment.PRODUCTION
            per_mmp[row["original__app__provider"]][0] += row["n"]
            per_mmp[row["original__app__provider"]][1] += row["n"] if production else 0
    labels = dict(Provider.choices)
    by_mmp = sorted(((labels.get(p, p), n, prod) for p, (n, prod) in per_mmp.items()), key=lambda r: -r[1])
    production = sum(prod for _, _, prod in by_mmp)
    groups = _groups(bulk.items.filter(plan__in=(Plan.REFUSE, Plan.SKIP)), "plan")
    return Summary(
        total=sum(planned.values()),
        planned=dict(planned),
        production=production,
        sandbox=planned.get(Plan.RESEND, 0) - production,
        by_mmp=by_mmp,
        refused=groups.get(Plan.REFUSE, []),
        skipped=groups.get(Plan.SKIP, []),
    )


def _groups(items, kind_field: str) -> dict[str, list[RuleGroup]]:
    """Items by kind (plan or outcome), then by rule, the largest group first."""
    found: dict[str, dict[str, RuleGroup]] = defaultdict(dict)
    for kind, rule, reason, original in items.order_by("original__event_time", "original_id").values_list(
        kind_field, "rule", "reason", "original_id"
    ):
        group = found[kind].setdefault(rule, RuleGroup(rule, RULE_LABELS.get(rule, rule or "Other")))
        group.count += 1
        if not group.example:
            group.example = reason
        if len(group.deliveries) < EXAMPLES:
            group.deliveries.append(original)
    return {kind: sorted(g.values(), key=lambda g: -g.count) for kind, g in found.items()}


@dataclass
class Progress(ProgressBar):
    """Where a started bulk resend stands: its items, and the deliveries it set going."""

    total: int
    queued: int  # copies queued
    retried: int  # retrying originals brought forward
    skipped: int
    refused: int
    delivered: int
    failed: int
    in_flight: int
    done: bool
    refused_groups: list[RuleGroup]
    skipped_groups: list[RuleGroup]

    @property
    def handled(self) -> int:
        return self.queued + self.retried + self.skipped + self.refused

    @property
    def sent(self) -> int:
        return self.queued + self.retried

    @property
    def bar_total(self) -> int:
        return self.sent

    @property
    def finished_percent(self) -> int:
        if not self.sent:
            return 100 if self.done else 0
        return int(self.percent(self.delivered + self.failed))


def progress(bulk: BulkResend) -> Progress:
    """Three reads: the items by outcome, the deliveries they set going by status, the groups."""
    outcomes = dict(bulk.items.order_by().values_list("outcome").annotate(n=Count("id")))
    sent = Delivery.objects.filter(
        Q(pk__in=bulk.items.filter(outcome=Outcome.QUEUED).values("resend"))
        | Q(pk__in=bulk.items.filter(outcome=Outcome.RETRIED).values("original"))
    )
    status = dict(sent.order_by().values_list("status").annotate(n=Count("id")))
    in_flight = sum(status.get(s, 0) for s in (Status.QUEUED, Status.SENDING, Status.RETRYING))
    groups = _groups(bulk.items.filter(outcome__in=(Outcome.REFUSED, Outcome.SKIPPED)), "outcome")
    return Progress(
        total=sum(outcomes.values()),
        queued=outcomes.get(Outcome.QUEUED, 0),
        retried=outcomes.get(Outcome.RETRIED, 0),
        skipped=outcomes.get(Outcome.SKIPPED, 0),
        refused=outcomes.get(Outcome.REFUSED, 0),
        delivered=status.get(Status.DELIVERED, 0),
        failed=status.get(Status.FAILED, 0) + status.get(Status.DEAD, 0),
        in_flight=in_flight,
        done=bulk.state in (BulkResend.State.QUEUED, BulkResend.State.ERROR) and in_flight == 0,
        refused_groups=groups.get(Outcome.REFUSED, []),
        skipped_groups=groups.get(Outcome.SKIPPED, []),
    )
