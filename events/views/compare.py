"""Two attempts side by side, of one delivery or two, with what differs highlighted: the decoded
request parameters, the headers, the answer and the timing, and a line diff of the response bodies."""

import difflib
import json
from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from events.models import Attempt
from events.pretty import Body, parse_json
from events.views.common import get_attempt_for_user, require_perm
from events.views.deliveries import attempt_view


@dataclass(frozen=True)
class Row:
    label: str
    a: str
    b: str

    @property
    def changed(self) -> bool:
        return self.a != self.b


@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    require_perm(request, "events.view_delivery")
    # The delivery page offers a select for the second attempt and a box to type any attempt id.
    a_id = request.GET.get("a", "").strip()
    b_id = (request.GET.get("b_id") or request.GET.get("b") or "").strip()
    if not (a_id and b_id):
        return render(request, "events/deliveries/compare.html", {"a_id": a_id, "b_id": b_id})
    a = get_attempt_for_user(request, _attempt_id(a_id))
    b = get_attempt_for_user(request, _attempt_id(b_id))
    view_a, view_b = attempt_view(a), attempt_view(b)
    sections = {
        "Parameters": _rows(_params(view_a["request_body"]), _params(view_b["request_body"])),
        "Request": _rows({"Method": a.method, "URL": a.url}, {"Method": b.method, "URL": b.url}),
        "Request headers": _rows(a.request_headers or {}, b.request_headers or {}),
        "Answer": _rows(_answer(a), _answer(b)),
        "Answer fields": _rows(_params(view_a["response_body"]), _params(view_b["response_body"])),
        "Response headers": _rows(a.response_headers or {}, b.response_headers or {}),
        "Timing": _rows(_timing(a), _timing(b)),
    }
    context = {
        "a": view_a,
        "b": view_b,
        "a_id": a.pk,
        "b_id": b.pk,
        "sections": {name: rows for name, rows in sections.items() if rows},
        "changed": sum(row.changed for rows in sections.values() for row in rows),
        "body_diff": body_diff(view_a["response_body"], view_b["response_body"]),
    }
    return render(request, "events/deliveries/compare.html", context)


def body_diff(a: Body, b: Body) -> list[tuple[str, str]]:
    """(kind, line) with kind "same", "removed" (only in A) or "added" (only in B)."""
    a_lines = [line.text for line in a.lines] or a.raw.splitlines()
    b_lines = [line.text for line in b.lines] or b.raw.splitlines()
    kinds = {" ": "same", "-": "removed", "+": "added"}
    return [(kinds[line[0]], line[2:]) for line in difflib.ndiff(a_lines, b_lines) if line[:1] in kinds]


def _attempt_id(value: str) -> int:
    try:
        return int(value.lstrip("#"))
    except ValueError:
        raise Http404("An attempt id is a number.") from None


def _params(body: Body) -> dict[str, str]:
    """A form body's parameters, or a JSON object's top-level keys."""
    if body.kind == "form":
        return dict(body.pairs)
    data = parse_json(body.raw) if body.kind == "json" else None
    if isinstance(data, dict):
        return {
            str(k): v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in data.items()
        }
    return {}


def _answer(attempt: Attempt) -> dict[str, Any]:
    return {
        "HTTP status": attempt.response_status or "—",
        "Outcome": attempt.get_outcome_display() or "in flight",
        "MMP message": attempt.mmp_message,
        "Explanation": attempt.explanation,
        "Network error": attempt.error,
        "Ambiguous": "yes" if attempt.ambiguous else "no",
        "Truncated": "yes" if attempt.response_truncated else "no",
    }


def _timing(attempt: Attempt) -> dict[str, Any]:
    started = timezone.localtime(attempt.started_at)  # the user's zone, named
    return {
        "Started": f"{started:%Y-%m-%d %H:%M:%S.%f}"[:-3] + f" {started.tzname()}",
        "Duration": f"{attempt.duration_ms:.0f} ms" if attempt.duration_ms is not None else "—",
        "Attempt": f"{attempt.number} of delivery {attempt.delivery_id}",
    }


def _rows(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    """One row per key of either side, A's order first; a missing side shows as empty."""
    keys = list(dict.fromkeys([*a, *b]))
    return [Row(key, _cell(a.get(key)), _cell(b.get(key))) for key in keys if a.get(key) or b.get(key)]


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
