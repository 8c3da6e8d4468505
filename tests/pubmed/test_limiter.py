"""RateLimiter tests on a fake clock: nothing really sleeps."""

from __future__ import annotations

import threading

import pytest

from pipeline.pubmed.limiter import RateLimiter, shared_limiter


class FakeTime:
    """A clock that only moves when someone sleeps (thread-safe)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds


def max_in_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    return (
        max(sum(1 for t in times if start <= t < start + window) for start in times) if times else 0
    )


@pytest.mark.parametrize("rate", [1, 3, 10])
def test_limiter_never_exceeds_rate_in_any_window(rate: int) -> None:
    fake = FakeTime()
    limiter = RateLimiter(rate, clock=fake.clock, sleep=fake.sleep)
    sent = []
    for _ in range(5 * rate + 2):
        limiter.acquire()
        sent.append(fake.clock())
    assert max_in_window(sent) == rate


def test_limiter_first_burst_does_not_sleep() -> None:
    fake = FakeTime()
    limiter = RateLimiter(3, clock=fake.clock, sleep=fake.sleep)
    for _ in range(3):
        assert limiter.acquire() == 0
    assert fake.slept == []
    assert limiter.acquire() == pytest.approx(limiter.window)


def test_limiter_idle_time_counts_towards_window() -> None:
    fake = FakeTime()
    limiter = RateLimiter(3, clock=fake.clock, sleep=fake.sleep)
    for _ in range(3):
        limiter.acquire()
    fake.now += 5.0
    assert [limiter.acquire() for _ in range(3)] == [0, 0, 0]


def test_limiter_threads_share_slots() -> None:
    # Each thread reserves a slot under the lock; the fake clock does not move, so the
    # delays handed out must still space the slots a window apart per `rate` calls.
    fake = FakeTime()
    limiter = RateLimiter(3, clock=fake.clock, sleep=lambda s: None)
    delays: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(4):
            delay = limiter.reserve()
            with lock:
                delays.append(fake.now + delay)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(delays) == 12
    assert max_in_window(delays, window=1.0) <= 3


@pytest.mark.parametrize("rate", [0, -1])
def test_limiter_rejects_non_positive_rate(rate: float) -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate)


def test_shared_limiter_one_per_rate() -> None:
    assert shared_limiter(3.0) is shared_limiter(3.0)
    assert shared_limiter(3.0) is not shared_limiter(10.0)


def test_limiter_counts_a_late_wake_up_from_when_it_sent() -> None:
    fake = FakeTime()
    late = {"first": True}

    def oversleep(seconds: float) -> None:
        # The first sleeper wakes 0.4 s late, as a thread does when the cores are busy.
        fake.sleep(seconds + (0.4 if late.pop("first", False) else 0.0))

    limiter = RateLimiter(3, clock=fake.clock, sleep=oversleep, margin=0.0)
    sent = []
    for _ in range(9):
        limiter.acquire()
        sent.append(fake.clock())
    assert max_in_window(sent) <= 3
