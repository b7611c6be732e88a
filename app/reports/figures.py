"""The charts of the report page and the dashboard, built from report data.
Each figure carries its data table (labels + series) for the text fallback."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup

from app.reports.charts import Series, Threshold, bar_chart, integer, line_chart, percent
from app.reports.growth import ListGrowth
from app.reports.service import SendReport
from app.sending.feedback import BOUNCE_PAUSE_RATE, COMPLAINT_PAUSE_RATE


@dataclass
class Figure:
    title: str
    svg: Markup
    labels: list[str]
    series: list[Series]
    fmt: Callable[[float], str] = integer

    def rows(self) -> list[tuple[str, list[str]]]:
        return [(label, [self.fmt(s.values[i]) for s in self.series]) for i, label in enumerate(self.labels)]


def _summary(labels: Sequence[str], series: Sequence[Series], fmt: Callable[[float], str]) -> str:
    """A one-sentence text alternative: totals or peaks per series."""
    bits = []
    for item in series:
        if not item.values:
            continue
        peak = max(range(len(item.values)), key=lambda i: item.values[i])
        bits.append(f"{item.name} highest at {labels[peak]} ({fmt(item.values[peak])})")
    return "; ".join(bits) or "no data"


def funnel_figure(report: SendReport) -> Figure:
    keys = ["recipients", "sent", "delivered", "open", "click", "unsubscribed"]
    steps = [report.step(k) for k in keys if k != "delivered" or report.has_delivery_data]
    labels = [s.label.replace(" after this issue", "") for s in steps]
    series = [Series("People", [s.count for s in steps])]
    desc = ", ".join(f"{s.label}: {s.count:,}" for s in steps)
    svg = bar_chart(title="Funnel", desc=desc, labels=labels, series=series, css="funnel")
    return Figure("Funnel", svg, labels, series)


def rate_figures(report: SendReport) -> list[Figure]:
    """Bounce and complaint rates against the auto-pause thresholds (separate
    charts: the two thresholds differ fifty-fold)."""
    figures = []
    for key, label, limit in (
        ("hard_bounce", "Hard bounce rate", BOUNCE_PAUSE_RATE),
        ("complaint", "Complaint rate", COMPLAINT_PAUSE_RATE),
    ):
        step = report.step(key)
        rate = step.rate or 0.0
        series = [Series(label, [rate])]
        desc = (
            f"{label} {percent(rate)} of sent ({step.count:,} of {step.base or 0:,}); "
            f"sending pauses automatically above {percent(limit)}."
        )
        svg = bar_chart(
            title=label,
            desc=desc,
            labels=[label],
            series=series,
            fmt=percent,
            thresholds=[Threshold(limit, f"auto-pause {percent(limit)}")],
            width=320,
            height=200,
            css="rate",
        )
        figures.append(Figure(label, svg, [label], series, percent))
    return figures


def timeline_figure(hours: list[datetime], counts: dict[str, list[int]]) -> Figure | None:
    if not hours:
        return None
    labels = [h.strftime("%d %b %H:00") for h in hours]
    series = [
        Series(name.capitalize(), counts[name])
        for name in ("sent", "delivered", "opens", "clicks")
        if any(counts.get(name, []))
    ]
    if not series:
        return None
    svg = line_chart(
        title="Timeline per hour (UTC)",
        desc=_summary(labels, series, integer),
        labels=labels,
        series=series,
        width=960,
        height=280,
        css="timeline",
    )
    return Figure("Timeline per hour (UTC)", svg, labels, series)


def comparison_figure(recent: Sequence[tuple[object, SendReport]]) -> Figure | None:
    """Key rates of the last issues side by side (oldest first)."""
    if not recent:
        return None
    ordered = list(reversed(recent))
    labels = [report.send.issue.slug[:18] if report.send.issue else f"send {report.send.id}" for _, report in ordered]
    series = [
        Series(name, [report.step(key).rate or 0.0 for _, report in ordered])
        for key, name in (
            ("delivered", "Delivered"),
            ("open", "Opened"),
            ("click", "Clicked"),
            ("hard_bounce", "Bounced"),
            ("unsubscribed", "Unsubscribed"),
        )
    ]
    series = [s for s in series if any(s.values)] or series[:1]
    svg = bar_chart(
        title="Last issues: key rates",
        desc=_summary(labels, series, percent),
        labels=labels,
        series=series,
        fmt=percent,
        width=720,
        height=260,
        css="comparison",
    )
    return Figure("Last issues: key rates", svg, labels, series, percent)


def growth_figures(growth: ListGrowth) -> tuple[Figure, Figure]:
    labels = [week.strftime("%d %b") for week in growth.weeks]
    name = growth.mailing_list.name
    size = [Series("Active subscribers", growth.size)]
    size_svg = line_chart(
        title=f"{name}: size per week", desc=_summary(labels, size, integer), labels=labels, series=size, css="growth"
    )
    flows = [
        Series("Subscribes", growth.subscribes),
        Series("Unsubscribes", growth.unsubscribes),
        Series("Hard bounces", growth.bounces),
    ]
    flows_desc = ", ".join(f"{s.name}: {sum(s.values):,} in {len(labels)} weeks" for s in flows)
    flows_svg = bar_chart(title=f"{name}: changes per week", desc=flows_desc, labels=labels, series=flows, css="flows")
    return (
        Figure(f"{name}: size", size_svg, labels, size),
        Figure(f"{name}: changes per week", flows_svg, labels, flows),
    )
