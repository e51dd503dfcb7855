"""CPU and memory of a process and all its descendants, sampled from /proc (Linux).

os.wait4 sees only children that were waited for; a Spark session's JVM and its Python workers live until the
end and are never waited for by our process, so they are sampled instead: every `interval` seconds, each
descendant's CPU time (user+sys) and RSS. CPU is the sum over every process seen of its last sample (a process
that lives less than one interval is missed); peaks are per role (this process, JVMs, other processes) and
for the whole tree; `series` holds (epoch seconds, CPU so far, tree RSS bytes) per sample, to attribute CPU and
memory to what ran when, and the root process's CPU so far (its worker processes used the rest).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid: int) -> tuple[int, float, int, str] | None:
    """(parent pid, CPU seconds user+sys, RSS bytes, command name) of a live process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is state (stat field 3): ppid is field 4, utime 14, stime 15, rss 24
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS, int(fields[21]) * _PAGE, name


class TreeSampler:
    def __init__(self, root: int | None = None, interval: float = 0.5) -> None:
        self.root = root or os.getpid()
        self.interval = interval
        self.cpu: dict[int, float] = {}
        self.peak = {"self": 0, "jvm": 0, "other": 0, "tree": 0}
        self.series: list[tuple[float, float, int, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        at = time.time()
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit() and (s := _stat(int(entry))) is not None:
                stats[int(entry)] = s
        tree, frontier = {self.root}, [self.root]
        children: dict[int, list[int]] = {}
        for pid, (ppid, *_) in stats.items():
            children.setdefault(ppid, []).append(pid)
        while frontier:
            for child in children.get(frontier.pop(), []):
                tree.add(child)
                frontier.append(child)
        rss = {"self": 0, "jvm": 0, "other": 0}
        for pid in tree & stats.keys():
            _, cpu, resident, name = stats[pid]
            self.cpu[pid] = cpu
            role = "self" if pid == self.root else "jvm" if name == "java" else "other"
            rss[role] += resident
        for role, value in rss.items():
            self.peak[role] = max(self.peak[role], value)
        self.peak["tree"] = max(self.peak["tree"], sum(rss.values()))
        self.series.append((at, self.cpu_s, sum(rss.values()), self.cpu.get(self.root, 0.0)))

    @property
    def cpu_s(self) -> float:
        return sum(self.cpu.values())
