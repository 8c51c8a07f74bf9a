"""Adoption of the shared composer, from Hangar's own records, drawn as inline SVG.

- members: memberships between their dev grant (joined_at) and their dev removal (left_at);
- production DAGs: for each member, the file count of its latest DAG deploy to prod (SharedDagDeploy);
- savings: each member month saves one dedicated environment (SHARED_COMPOSER_COST_PER_ENVIRONMENT)
  and each team month SHARED_COMPOSER_MAINTENANCE_HOURS (the seed's surveyed 4 h per team per month).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from onboarding.shared_composer.models import SharedDagDeploy, SharedMembership

DAYS_PER_MONTH = 365.25 / 12
SAMPLES = 60


def _intervals() -> list[tuple[datetime, datetime | None, int]]:
    """(joined, left or None, team id) of every membership that was applied in dev."""
    rows = SharedMembership.objects.exclude(joined_at=None).values_list("joined_at", "left_at", "project__team_id")
    return [(joined, left, team) for joined, left, team in rows]


def _active(intervals, at: datetime) -> list[tuple[datetime, datetime | None, int]]:
    return [i for i in intervals if i[0] <= at and (i[1] is None or i[1] > at)]


def members_series(intervals, now: datetime) -> list[tuple[datetime, float]]:
    """A step series: a point at each join and leave."""
    events = sorted({i[0] for i in intervals} | {i[1] for i in intervals if i[1] and i[1] <= now})
    points = [(at, float(len(_active(intervals, at)))) for at in events]
    if points:
        points.append((now, float(len(_active(intervals, now)))))
    return points


def production_dags_series(now: datetime) -> list[tuple[datetime, float]]:
    deploys = list(
        SharedDagDeploy.objects.filter(stage="prod")
        .order_by("deployed_at", "id")
        .values_list("deployed_at", "membership_id", "file_count", "membership__left_at")
    )
    latest: dict[int, tuple[int, datetime | None]] = {}
    points = []
    for at, membership, count, left in deploys:
        latest[membership] = (count, left)
        points.append((at, float(sum(c for c, gone in latest.values() if gone is None or gone > at))))
    if points:
        points.append((now, float(sum(c for c, gone in latest.values() if gone is None or gone > now))))
    return points


def _overlap_days(start: datetime, end: datetime | None, until: datetime) -> float:
    stop = min(end or until, until)
    return max((stop - start).total_seconds(), 0) / 86400


def cumulative_series(intervals, now: datetime) -> tuple[list[tuple[datetime, float]], list[tuple[datetime, float]]]:
    """(cost saved, maintenance hours saved), cumulative, at evenly spaced times since the first join."""
    if not intervals:
        return [], []
    start = min(i[0] for i in intervals)
    span = max((now - start).total_seconds(), 1)
    times = [start + timedelta(seconds=span * k / SAMPLES) for k in range(SAMPLES + 1)]
    cost, hours = [], []
    per_member = settings.SHARED_COMPOSER_COST_PER_ENVIRONMENT / DAYS_PER_MONTH
    per_team = settings.SHARED_COMPOSER_MAINTENANCE_HOURS / DAYS_PER_MONTH
    for at in times:
        cost.append((at, sum(_overlap_days(j, left, at) for j, left, _ in intervals) * per_member))
        # A team saves its maintenance once, however many of its projects are members: merge per team.
        by_team: dict[int, list[tuple[datetime, datetime | None]]] = {}
        for joined, left, team in intervals:
            by_team.setdefault(team, []).append((joined, left))
        days = sum(_union_days(spans, at) for spans in by_team.values())
        hours.append((at, days * per_team))
    return cost, hours


def _union_days(spans: list[tuple[datetime, datetime | None]], until: datetime) -> float:
    total, current_start, current_end = 0.0, None, None
    for start, end in sorted(spans):
        if start >= until:
            break
        end = min(end or until, until)
        if current_end is None or start > current_end:
            if current_end is not None:
                total += (current_end - current_start).total_seconds()
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += (current_end - current_start).total_seconds()
    return total / 86400


def svg_chart(points: list[tuple[datetime, float]], *, title: str, unit: str = "", step: bool = False) -> str:
    """A small line chart as inline SVG (no script): axes, the line, first/last dates and the range."""
    width, height, left, right, top, bottom = 560, 200, 56, 16, 16, 32
    label = escape(title)
    if not points:
        return mark_safe(
            f'<svg class="chart" role="img" aria-label="{label}: no data yet" viewBox="0 0 {width} {height}">'
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" class="chart-empty">No data yet</text></svg>'
        )
    t0, t1 = points[0][0], points[-1][0]
    span = max((t1 - t0).total_seconds(), 1)
    high = max(max(v for _, v in points), 1)
    plot_w, plot_h = width - left - right, height - top - bottom

    def xy(at: datetime, value: float) -> tuple[float, float]:
        return (
            left + plot_w * (at - t0).total_seconds() / span,
            top + plot_h * (1 - value / high),
        )

    coords = []
    previous = None
    for at, value in points:
        x, y = xy(at, value)
        if step and previous is not None:
            coords.append(f"{x:.1f},{previous:.1f}")
        coords.append(f"{x:.1f},{y:.1f}")
        previous = y
    last = points[-1][1]
    fmt = "{:,.0f}" if high >= 10 or float(last).is_integer() else "{:,.1f}"
    parts = [
        f'<svg class="chart" role="img" aria-label="{label}: {escape(fmt.format(last))} {escape(unit)} now" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMidYMid meet">',
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"/>',
        f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{escape(fmt.format(high))}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>',
        f'<text x="{left}" y="{height - 8}">{t0:%Y-%m-%d}</text>',
        f'<text x="{left + plot_w}" y="{height - 8}" text-anchor="end">{t1:%Y-%m-%d}</text>',
        f'<polyline class="line" fill="none" points="{" ".join(coords)}"/>',
        "</svg>",
    ]
    return mark_safe("".join(parts))


def adoption_context(now: datetime | None = None) -> dict:
    now = now or timezone.now()
    intervals = _intervals()
    members = members_series(intervals, now)
    dags = production_dags_series(now)
    cost, hours = cumulative_series(intervals, now)
    return {
        "members_now": int(members[-1][1]) if members else 0,
        "dags_now": int(dags[-1][1]) if dags else 0,
        "cost_total": round(cost[-1][1]) if cost else 0,
        "hours_total": round(hours[-1][1]) if hours else 0,
        "cost_per_environment": settings.SHARED_COMPOSER_COST_PER_ENVIRONMENT,
        "maintenance_hours": settings.SHARED_COMPOSER_MAINTENANCE_HOURS,
        "members_chart": svg_chart(members, title="Members", unit="members", step=True),
        "dags_chart": svg_chart(dags, title="Production DAGs", unit="DAGs", step=True),
        "cost_chart": svg_chart(cost, title="Cumulative cloud cost saved", unit="saved"),
        "hours_chart": svg_chart(hours, title="Cumulative maintenance hours saved", unit="hours"),
    }
