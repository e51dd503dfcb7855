"""Progress for long jobs with tqdm: a live bar on a terminal, plain log lines everywhere else.

dbt captures what Python models write, and a carriage-return bar turns into one unreadable line there; so when
stderr is not a terminal, tqdm writes through the logger instead (one line at most every `every_s` seconds,
no bar characters), and the final line says how long the job took.
"""

from __future__ import annotations

import logging
import sys
import time

from tqdm import tqdm

log = logging.getLogger(__name__)

LINE_FORMAT = "{desc}: {n:,}/{total:,} {unit} ({percentage:.0f}%), {rate_fmt}, ETA {remaining}"
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n:,}/{total:,} {unit} [{elapsed}<{remaining}, {rate_fmt}]"


class _LogWriter:
    """A file for tqdm that turns each refresh into one log record (no carriage returns, no repeats)."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger, self._last = logger, ""

    def write(self, text: str) -> None:
        line = text.strip("\r\n\x1b[A ")
        if line and line != self._last:
            self._last = line
            self.logger.info(line)

    def flush(self) -> None:
        pass


class Progress:
    """Call `update(n)` as work completes; `close()` writes the final line."""

    def __init__(self, total: int, label: str, unit: str = "rows", every_s: float = 1.0) -> None:
        self.total, self.label, self.unit = total, label, unit
        self.start = time.perf_counter()
        self._tty = tty = sys.stderr.isatty()
        self._bar = tqdm(
            total=total,
            desc=label,
            unit=f" {unit}",
            file=sys.stderr if tty else _LogWriter(log),
            mininterval=every_s,
            maxinterval=max(every_s, 10.0),
            bar_format=(BAR_FORMAT if tty else LINE_FORMAT).replace("{unit}", unit),
            dynamic_ncols=tty,
            ascii=not tty,
            delay=0 if tty else every_s,  # no log line before there is progress to report
            leave=tty,  # in a log the final line below says it all
        )

    @property
    def done(self) -> int:
        return int(self._bar.n)

    def update(self, n: int) -> None:
        self._bar.update(n)

    def line(self) -> str:
        """The current state as one plain line: done/total, percent, rate and ETA."""
        return tqdm.format_meter(
            **{**self._bar.format_dict, "bar_format": LINE_FORMAT.replace("{unit}", self.unit)}
        )

    def close(self) -> None:
        final = self.line().split(", ETA")[0]
        self._bar.close()
        if not self._tty:
            log.info("%s, done in %.1fs", final, time.perf_counter() - self.start)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def announce(message: str, logger: logging.Logger = log) -> None:
    """One line in the logger and, inside dbt, in dbt's log and console (dbt shows no Python logging from Python
    models)."""
    logger.info(message)
    try:
        from dbt_common.events.functions import fire_event
        from dbt_common.events.types import Note
    except ImportError:  # not running under dbt
        return
    fire_event(Note(msg=message))
