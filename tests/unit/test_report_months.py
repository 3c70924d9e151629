"""The report's one-pass split of the trend's rows into months gives, for every month, exactly the
rows the KPI window filter (``measures.touches``) keeps."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from projections import measures
from projections import report as r
from projections.ticket_state.fold import TicketRow, iso


def test_rows_per_month_equal_the_window_filter_for_each_month():
    rng = random.Random(7)
    zone = ZoneInfo("Asia/Shanghai")
    months = [r.shift(date(2025, 4, 1), k) for k in range(r.TREND_MONTHS)]
    windows = [tuple(iso(b) for b in r.month_bounds(m, zone)) for m in months]
    origin = datetime(2025, 2, 1, tzinfo=timezone.utc)
    rows = []
    for n in range(3000):
        opened = origin + timedelta(hours=rng.uniform(0, 24 * 480))
        activity = opened + timedelta(hours=rng.choice([0, rng.uniform(0, 24), rng.uniform(0, 24 * 120)]))
        if n % 7 == 0:  # on a month's first instant, in the zone
            opened = r.month_bounds(rng.choice(months), zone)[0]
            activity = opened
        rows.append(TicketRow(ticket_id=str(n), version=1, status="opened", customer_id="c", channel="web",
                              category="x", opened_at=iso(opened),
                              activity_at=None if n % 5 == 0 else iso(activity)))
    split = r.rows_per_month(rows, windows)
    for (lo, hi), found in zip(windows, split, strict=True):
        assert found == [row for row in rows if measures.touches(row, lo, hi)]
    assert sum(map(len, split)) > len(rows) // 2
