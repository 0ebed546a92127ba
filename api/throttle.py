"""Per-namespace throttles: invocations and trigger fires per minute, concurrent activations.

The counting is plain state with no I/O, so tests drive it with their own
clock. Like OpenWhisk's controller, each API instance counts what passes
through it (several instances share a namespace's allowance only roughly).

- Rate: a counter per namespace and calendar minute. Every request counts,
  refused ones too (as OpenWhisk's ``RateThrottler``); it passes while the
  count, this request included, is at most the allowance.
- Concurrency: the activations this instance accepted for a namespace and
  has not seen complete. A request passes while fewer than the allowance are
  in flight. Each entry carries its activation's deadline and is forgotten
  after it, so a completion that never reaches this instance cannot throttle a
  namespace for ever.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from streams.events import ThrottleLimit
from streams.messages import TOO_MANY_CONCURRENT, TOO_MANY_REQUESTS

MINUTE_MS = 60_000


@dataclass(frozen=True)
class ThrottleVerdict:
    """A throttle's answer: ``ok``, or the message for the 429 and which limit it was
    (``timed``: a per-minute rate; ``concurrent``: activations in flight)."""

    ok: bool
    message: str = ""
    limit: ThrottleLimit | None = None


PASS = ThrottleVerdict(True)


@dataclass
class RateThrottle:
    """Counts requests per namespace in the current minute."""

    windows: dict[str, tuple[int, int]] = field(default_factory=dict)

    def check(self, namespace: str, allowed: int, now_ms: int) -> ThrottleVerdict:
        minute = now_ms // MINUTE_MS
        current, count = self.windows.get(namespace, (minute, 0))
        if current != minute:
            count = 0
        count += 1
        self.windows[namespace] = (minute, count)
        if count <= allowed:
            return PASS
        return ThrottleVerdict(
            False, TOO_MANY_REQUESTS.format(count=count, allowed=allowed), "timed"
        )


@dataclass
class ConcurrencyThrottle:
    """Activations in flight per namespace, each until it completes or its deadline passes."""

    in_flight: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, namespace: str, now_ms: int) -> int:
        entries = self.in_flight.get(namespace)
        if not entries:
            return 0
        for activation_id in [a for a, deadline in entries.items() if deadline < now_ms]:
            del entries[activation_id]
        return len(entries)

    def check(self, namespace: str, allowed: int, now_ms: int) -> ThrottleVerdict:
        count = self.count(namespace, now_ms)
        if count < allowed:
            return PASS
        return ThrottleVerdict(
            False, TOO_MANY_CONCURRENT.format(count=count, allowed=allowed), "concurrent"
        )

    def started(self, namespace: str, activation_id: str, deadline_ms: int) -> None:
        self.in_flight.setdefault(namespace, {})[activation_id] = deadline_ms

    def finished(self, namespace: str, activation_id: str) -> None:
        entries = self.in_flight.get(namespace)
        if entries is not None:
            entries.pop(activation_id, None)
            if not entries:
                del self.in_flight[namespace]


@dataclass(frozen=True)
class Allowances:
    """What one namespace may do: the settings, overridden by the namespace's own limits
    (``Identity.limits``: its ``NAMESPACE/limits`` document, ``api/userlimits.py``)."""

    invocations_per_minute: int
    concurrent: int
    fires_per_minute: int

    @classmethod
    def of(cls, defaults: Allowances, overrides: dict[str, object]) -> Allowances:
        def pick(key: str, default: int) -> int:
            value = overrides.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else default

        return cls(
            invocations_per_minute=pick("invocationsPerMinute", defaults.invocations_per_minute),
            concurrent=pick("concurrentInvocations", defaults.concurrent),
            fires_per_minute=pick("firesPerMinute", defaults.fires_per_minute),
        )


@dataclass
class Throttles:
    """The three throttles of one API instance."""

    invocations: RateThrottle = field(default_factory=RateThrottle)
    fires: RateThrottle = field(default_factory=RateThrottle)
    concurrency: ConcurrencyThrottle = field(default_factory=ConcurrencyThrottle)

    def check_invoke(self, namespace: str, allowed: Allowances, now_ms: int) -> ThrottleVerdict:
        """An action invocation: the rate first, then concurrency (OpenWhisk's order)."""
        rate = self.invocations.check(namespace, allowed.invocations_per_minute, now_ms)
        if not rate.ok:
            return rate
        return self.concurrency.check(namespace, allowed.concurrent, now_ms)

    def check_fire(self, namespace: str, allowed: Allowances, now_ms: int) -> ThrottleVerdict:
        return self.fires.check(namespace, allowed.fires_per_minute, now_ms)
