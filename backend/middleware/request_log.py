"""The live request log: the newest requests in a bounded ring, and per-second figures.

Fed by EdgeMiddleware with the access log's redacted fields (no header, no
body, query-string secrets and JWTs masked), read by the console's Dashboard. A
record is a deque append and a histogram increment: cheap enough for every request.
Everything runs on one event loop, so nothing here is locked.
"""

from __future__ import annotations

import bisect
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, NamedTuple

DEFAULT_CAPACITY = 10_000
HISTORY_SECONDS = 120
# Latency histogram bounds in ms: 0.05 ms to ~20 s, each 25% above the one before.
LATENCY_BOUNDS_MS: tuple[float, ...] = tuple(0.05 * 1.25**step for step in range(58))


class RequestEntry(NamedTuple):
    """One request, as the ring hands it out."""

    at: float  # seconds since the epoch
    method: str
    target: str  # path and query string, redacted
    status: int
    duration_ms: float
    client: str
    request_id: str

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]


@dataclass(slots=True)
class _Second:
    second: int
    count: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BOUNDS_MS) + 1))


@dataclass(frozen=True, slots=True)
class SecondFigures:
    """One second of traffic: how many requests, and their median and 95th percentile."""

    second: int
    count: int
    p50_ms: float
    p95_ms: float


@dataclass(frozen=True, slots=True)
class Traffic:
    """Requests per second and latency percentiles over a few seconds."""

    rps: float
    p50_ms: float
    p95_ms: float


class RequestLog:
    """The newest `capacity` requests and `HISTORY_SECONDS` of per-second figures."""

    def __init__(
        self, capacity: int = DEFAULT_CAPACITY, clock: Callable[[], float] = time.time
    ) -> None:
        self.capacity = capacity
        self._clock = clock
        # Plain tuples, not RequestEntry: the cyclic collector stops tracking a tuple of
        # atoms (never a NamedTuple), so a full ring churning under load adds nothing to
        # the full collections, whose pauses the console's frames would wait for.
        self._entries: deque[tuple[Any, ...]] = deque(maxlen=capacity)
        self._seconds: deque[_Second] = deque(maxlen=HISTORY_SECONDS)
        self.recorded = 0  # every request ever recorded; the ring keeps the newest

    def __len__(self) -> int:
        return len(self._entries)

    def record(self, entry: RequestEntry) -> None:
        self._entries.append(tuple(entry))
        self.recorded += 1
        second = int(entry.at)
        seconds = self._seconds
        if not seconds or seconds[-1].second != second:
            seconds.append(_Second(second))
        bucket = seconds[-1]
        bucket.count += 1
        bucket.histogram[bisect.bisect_left(LATENCY_BOUNDS_MS, entry.duration_ms)] += 1

    def newest(self, limit: int, after: int = 0) -> list[RequestEntry]:
        """Up to `limit` of the newest entries recorded after the `after`-th, newest first."""
        wanted = min(limit, self.recorded - after, len(self._entries))
        return list(map(RequestEntry._make, islice(reversed(self._entries), max(wanted, 0))))

    def per_second(self, seconds: int = 60) -> list[SecondFigures]:
        """The last `seconds` whole seconds, oldest first (seconds without a request count 0)."""
        now = int(self._clock())
        by_second = {bucket.second: bucket for bucket in self._seconds}
        figures = []
        for second in range(now - seconds, now):
            bucket = by_second.get(second)
            if bucket is None:
                figures.append(SecondFigures(second, 0, 0.0, 0.0))
            else:
                figures.append(SecondFigures(second, bucket.count, *_percentiles(bucket.histogram)))
        return figures

    def summary(self, seconds: int = 10) -> Traffic:
        """Requests per second and p50/p95 over the last `seconds` whole seconds."""
        now = int(self._clock())
        merged = [0] * (len(LATENCY_BOUNDS_MS) + 1)
        count = 0
        for bucket in self._seconds:
            if now - seconds <= bucket.second < now:
                count += bucket.count
                merged = [a + b for a, b in zip(merged, bucket.histogram, strict=True)]
        return Traffic(count / seconds, *_percentiles(merged))


def _percentiles(histogram: list[int]) -> tuple[float, float]:
    total = sum(histogram)
    if total == 0:
        return 0.0, 0.0
    return _quantile(histogram, total, 0.50), _quantile(histogram, total, 0.95)


def _quantile(histogram: list[int], total: int, fraction: float) -> float:
    """The upper bound of the histogram bucket holding the `fraction` quantile."""
    rank = fraction * total
    seen = 0
    for index, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            return LATENCY_BOUNDS_MS[min(index, len(LATENCY_BOUNDS_MS) - 1)]
    return LATENCY_BOUNDS_MS[-1]
