"""Server-drawn SVG geometry for the overview's chart: stacked bars on a y-axis with gridlines,
each segment a link to the request log rows it counts. No script: the template draws rects,
lines and text at the positions computed here, and the CSS colours them by class."""

import math
from dataclasses import dataclass
from datetime import UTC, tzinfo

from events.reporting.figures import Bar, log_url

WIDTH, HEIGHT = 640, 180
LEFT, BOTTOM, TOP = 44, 22, 8
GRIDLINES = 4  # above zero: the top is 4 round steps  # room for the y labels, the x labels and the top label
SEGMENTS = (  # kind, the log's status filter, its name in the legend
    ("delivered", "delivered", "delivered"),
    ("failed", "unsuccessful", "failed or dead"),
    ("in_flight", "in_flight", "not finished"),
)


def nice_step(value: float) -> int:
    """The smallest 1, 2 or 5 × 10^k at or above value (at least 1): a round gridline step."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # not reached


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    ticks: list[dict]  # y gridlines: {"y", "label"}
    bars: list[dict]  # {"x", "w", "segments": [{"kind", "y", "h", "n", "url"}], "title", "url"}
    labels: list[dict]  # x labels: {"x", "text", "anchor"}
    top: int


def chart(bars: list[Bar], *, time_format: str, zone: tzinfo = UTC) -> Chart:
    """Stacked delivered / failed / not finished per bar, scaled to a round top; the x labels are
    the bars' starts in the reader's zone."""
    plot_h = HEIGHT - BOTTOM - TOP
    plot_w = WIDTH - LEFT
    step = nice_step(max((b.figures.sends for b in bars), default=0) / GRIDLINES)
    top = step * GRIDLINES
    ticks = []
    for i in range(GRIDLINES + 1):
        y = TOP + plot_h - plot_h * i / GRIDLINES
        ticks.append({"y": round(y, 1), "label": f"{step * i:,}"})
    slot = plot_w / max(len(bars), 1)
    drawn = []
    for index, bar in enumerate(bars):
        x = LEFT + index * slot
        y = float(TOP + plot_h)
        segments = []
        for kind, status, _ in SEGMENTS:
            n = getattr(bar.figures, kind)
            if n:
                h = plot_h * n / top
                y -= h
                url = log_url(bar.figures.filters, status=status)
                segments.append(
                    {"kind": kind, "y": round(y, 2), "h": round(max(h, 0.5), 2), "n": n, "url": url}
                )
        drawn.append(
            {
                "x": round(x + 1, 2),
                "w": round(max(slot - 2, 1), 2),
                "segments": segments,
                "bar": bar,
                "url": log_url(bar.figures.filters),
            }
        )
    labels = []
    if bars:
        ends = ((0, "start"), (len(bars) // 2, "middle"), (len(bars) - 1, "end"))
        for index, anchor in ends if len(bars) > 2 else (ends[0],):
            x = LEFT + index * slot + (slot / 2 if anchor == "middle" else 0 if anchor == "start" else slot)
            labels.append(
                {
                    "x": round(x, 1),
                    "text": f"{bars[index].start.astimezone(zone):{time_format}}",
                    "anchor": anchor,
                }
            )
    return Chart(WIDTH, HEIGHT, ticks, drawn, labels, top)
