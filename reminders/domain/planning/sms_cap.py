"""The SMS cap: at most `per_day` texts a local calendar day and `per_week` in any 168 hours.

One rule for planning, sending, re-planning, check-in reminders and manual resends
(docs/care-plans.md: the FCC's 2015 healthcare exemption allows 1 a day, 3 a week).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEK = timedelta(hours=168)


@dataclass(frozen=True)
class SmsCap:
    per_day: int = 1
    per_week: int = 3

    def __post_init__(self) -> None:
        if self.per_day < 1 or self.per_week < self.per_day:
            raise ValueError("SMS cap: need 1 <= per_day <= per_week")

    def fits(self, texts: Iterable[datetime], at: datetime, zone: ZoneInfo) -> bool:
        """True if one more text at `at` keeps its local day and every 168 hours within the cap.

        `texts` are the other texts to the same phone, sent or planned, before or after `at`.
        """
        day = at.astimezone(zone).date()
        near = sorted(t for t in texts if abs(t - at) < WEEK)
        if sum(t.astimezone(zone).date() == day for t in near) + 1 > self.per_day:
            return False
        # The fullest 168 hours around `at` start at one of the texts (slide any window
        # right until its left edge meets a text: it loses none on the way).
        with_new = sorted([*near, at])
        for start in (t for t in with_new if at - WEEK < t <= at):
            if sum(start <= t < start + WEEK for t in with_new) > self.per_week:
                return False
        return True

    def earliest_fit(
        self,
        texts: Sequence[datetime],
        at: datetime,
        zone: ZoneInfo,
        *,
        latest: datetime,
        allowed: Callable[[datetime], datetime] = lambda t: t,
    ) -> datetime | None:
        """The first moment from `at` to `latest` when one more text fits, or None.

        `allowed` moves a moment to the next one the text may go at (quiet hours). A text
        becomes possible only when an older one leaves its 168 hours or a new local day
        begins, so those are the only moments worth trying.
        """
        candidates = {at}
        candidates.update(t + WEEK for t in texts if at < t + WEEK <= latest)
        day = at.astimezone(zone).date()
        for n in range(1, min((latest - at).days + 2, 400)):  # bounded: deadlines are days
            midnight = datetime.combine(day + timedelta(days=n), time(0), zone)
            if midnight <= latest:
                candidates.add(midnight)
        for moment in sorted(candidates):
            when = allowed(moment)
            if when > latest:
                continue
            if self.fits(texts, when, zone):
                return when
        return None
