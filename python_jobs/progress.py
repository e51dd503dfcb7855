"""A one-line progress display (done/total, rate, ETA) for long jobs; logs instead when not a terminal."""

from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger(__name__)


class Progress:
    """Call `update(n)` as work completes; `close()` prints the final line."""

    def __init__(self, total: int, label: str, unit: str = "rows", every_s: float = 1.0) -> None:
        self.total, self.label, self.unit, self.every_s = total, label, unit, every_s
        self.done = 0
        self.start = self._last = time.perf_counter()
        self._tty = sys.stderr.isatty()

    def update(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self._last >= self.every_s:
            self._last = now
            self._emit(final=False)

    def line(self) -> str:
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        rate = self.done / elapsed
        left = max(self.total - self.done, 0)
        eta = f"{left / rate:,.0f}s" if rate > 0 else "?"
        pct = 100.0 * self.done / self.total if self.total else 100.0
        return (
            f"{self.label}: {self.done:,}/{self.total:,} {self.unit} ({pct:.0f}%), "
            f"{rate:,.0f} {self.unit}/s, ETA {eta}"
        )

    def _emit(self, final: bool) -> None:
        text = (
            self.line()
            if not final
            else f"{self.line().split(', ETA')[0]}, done in {time.perf_counter() - self.start:.1f}s"
        )
        if self._tty:
            sys.stderr.write("\r" + text + ("\n" if final else ""))
            sys.stderr.flush()
        else:
            log.info(text)

    def close(self) -> None:
        self._emit(final=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
