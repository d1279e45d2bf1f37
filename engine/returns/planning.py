"""Returns in a plan from the book: the approved returns, read with the book's snapshot,
turned into the plan request's pickups (:class:`models.plan.PlanPickup`).

- site: the return's own (the site that shipped the order, kept when it was opened) when
  the plan takes that site, else the plan's site nearest the pickup;
- place: the order's delivery location; service: the order's, else the plan's default;
- windows: the order's delivery windows that fall on the planned day (seconds from its
  start); windows of another day keep their clock time on the planned day (the customer's
  hours; a window of a whole day or more is no window);
- load: the returned lines, sized by the plan's ``products`` as deliveries are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection

from engine.book import tables as bt
from engine.returns import changes
from engine.returns import lifecycle as lc
from engine.returns import tables as t
from models.book import DeliveryWindow, SiteRecord
from models.common import TimeWindow
from models.plan import PickupLine, PlanPickup

#: The length of the planned day, in seconds.
DAY_S = 86_400.0


@dataclass(frozen=True)
class ToCollect:
    """An approved return, with what its pickup needs of its order."""

    return_id: str
    order_id: str
    site_id: str | None
    location: tuple[float, float]
    lines: list[PickupLine]
    windows: list[DeliveryWindow]
    service_s: float | None


def to_collect(conn: Connection) -> list[ToCollect]:
    """The approved returns (not yet scheduled), oldest first."""
    r, o = t.returns.c, bt.orders.c
    rows = conn.execute(
        select(
            r.seq, r.return_id, r.site_id, r.lon, r.lat, o.order_id, o.delivery_windows, o.service_s
        )
        .join(bt.orders, o.seq == r.order_seq)
        .where(r.status == lc.TO_COLLECT.value)
        .order_by(r.seq)
    ).all()
    out = []
    for m in (row._mapping for row in rows):
        lines = [
            PickupLine(line_id=ln.line_id, sku=ln.sku, quantity=ln.quantity)
            for ln in changes.lines_of(conn, m["seq"])
        ]
        out.append(
            ToCollect(
                return_id=m["return_id"],
                order_id=m["order_id"],
                site_id=m["site_id"],
                location=(m["lon"], m["lat"]),
                lines=lines,
                windows=[DeliveryWindow.model_validate(w) for w in m["delivery_windows"] or []],
                service_s=m["service_s"],
            )
        )
    return out


def day_windows(windows: list[DeliveryWindow], day_start: dt.datetime) -> list[TimeWindow]:
    """The windows of the planned day, in seconds from its start (see the module's text)."""
    day_end = day_start + dt.timedelta(seconds=DAY_S)
    out = []
    for window in windows:
        length_s = (window.end - window.start).total_seconds()
        if length_s >= DAY_S:
            return []  # a window of a day or more: any time
        if window.end >= day_start and window.start <= day_end:
            start_s = max(0.0, (window.start - day_start).total_seconds())
            end_s = min(DAY_S, (window.end - day_start).total_seconds())
        else:
            start_s = (window.start - day_start).total_seconds() % DAY_S
            end_s = min(DAY_S, start_s + length_s)
        out.append(TimeWindow(start_s=start_s, end_s=end_s))
    return out


def pickups(
    returns: list[ToCollect], sites: list[SiteRecord], day_start: dt.datetime
) -> list[PlanPickup]:
    """The plan's pickups of the approved returns (none when the plan takes no site)."""
    if not sites:
        return []
    taken = {site.id for site in sites}
    places = [(site.id, site.location) for site in sites]
    out = []
    for ret in returns:
        site_id = (
            ret.site_id if ret.site_id in taken else changes.nearest_site(places, ret.location)
        )
        out.append(
            PlanPickup(
                id=ret.return_id,
                order_id=ret.order_id,
                site_id=site_id,
                location=ret.location,
                lines=ret.lines,
                time_windows=day_windows(ret.windows, day_start),
                service_s=ret.service_s,
            )
        )
    return out
