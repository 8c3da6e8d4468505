"""A thread-safe sliding-window rate limiter for E-utilities requests. No I/O; it sleeps.

NCBI allows 3 requests per second without an API key and 10 with one, counted over any
one-second window; going over earns a 429. :class:`RateLimiter` hands out *slots*: each
caller reserves the earliest time at which sending keeps every window within the rate,
then sleeps until then outside the lock, so concurrent callers queue in order.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["RateLimiter", "shared_limiter"]


class RateLimiter:
    """Space calls so that no sliding window of ``window`` seconds holds more than ``rate``.

    Args:
        rate: Calls allowed per window; fractional rates are rounded down (at least 1).
        clock: Monotonic clock in seconds; tests pass a fake one.
        sleep: Sleeps for the given seconds; tests pass one that advances the fake clock.
        window: Window length in seconds (NCBI counts per second).
        margin: Extra seconds added to the window, because the server measures arrival
            times and the network jitters them; without it two requests sent exactly one
            window apart may land inside one window at NCBI. Half of it was not enough
            with both CPU cores busy classifying (docs/benchmarks.md), so it is 0.1 s:
            at most 9.1 requests/s with a key and 2.7 without.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        window: float = 1.0,
        margin: float = 0.1,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate!r}")
        self.rate = rate
        self.capacity = max(1, int(rate))
        self.window = window + margin
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        # The send times of the last `capacity` slots handed out, oldest first; they
        # are non-decreasing, so the oldest one bounds when the next slot may start.
        self._slots: deque[float] = deque(maxlen=self.capacity)

    def reserve(self) -> float:
        """Reserve the next slot without sleeping.

        Returns:
            Seconds the caller must wait before sending (0 when it may send now).
        """
        with self._lock:
            now = self._clock()
            slot = now
            if len(self._slots) == self.capacity:
                slot = max(now, self._slots[0] + self.window)
            self._slots.append(slot)
            return slot - now

    def acquire(self) -> float:
        """Block until a request may be sent.

        Returns:
            The seconds slept, for statistics.
        """
        delay = self.reserve()
        if delay > 0:
            self._sleep(delay)
        return delay

    def __repr__(self) -> str:
        return f"RateLimiter(rate={self.rate!r}, window={self.window!r})"


_shared: dict[float, RateLimiter] = {}
_shared_lock = threading.Lock()


def shared_limiter(rate: float) -> RateLimiter:
    """Return the process-wide limiter for ``rate``, creating it on first use.

    Every PubMed client in a process built for the same rate shares one limiter, so two
    clients (or two threads) cannot together exceed NCBI's per-IP limit.

    Args:
        rate: Requests per second (``Config.rate_limit``).

    Returns:
        The one limiter for that rate, using the real clock and sleep.
    """
    with _shared_lock:
        limiter = _shared.get(rate)
        if limiter is None:
            limiter = _shared[rate] = RateLimiter(rate)
        return limiter
