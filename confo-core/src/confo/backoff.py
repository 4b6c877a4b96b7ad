"""The pause before trying a store again: shared by the watch's listener and the reconnect of
a backend loaded offline, so that a fleet of services comes back spread out, the same way."""

from __future__ import annotations

import random


class Backoff:
    """Exponential back-off with jitter: about 0.1 s doubling up to 10 s, jitter included.

    Each pause is drawn between half and all of its step, so that services that lost the same
    store come back spread out. ``reset()`` once a connection has held for a while.
    """

    def __init__(self, base: float = 0.1, cap: float = 10.0) -> None:
        self.base = base
        self.cap = cap
        self._step = 0

    def next(self) -> float:
        delay = min(self.cap, self.base * 2**self._step)
        self._step = min(self._step + 1, 30)
        return random.uniform(delay / 2, delay)  # noqa: S311 (jitter, not cryptography)

    def reset(self) -> None:
        self._step = 0
