"""Where a dbt build's elapsed time went: the chain of nodes that decided when it ended, and how much of it ran
with only one node busy.

With two dbt threads, a build is either bound by a chain (each node waits for the one before it; cutting nodes
off the chain shortens the build, adding threads does not) or by throughput (both threads busy; only less
work shortens it). The critical path is traced back from the node that ended last: each step goes to the
upstream node, or a data test of one (`dbt build` runs a node only after its parents' tests), that ended last
before the step started. Its summed node time below dbt's elapsed time is time its nodes waited for a thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

# A node starts a few milliseconds after the parent that released it ends; timestamps are per thread.
RELEASE_SLACK_S = 0.5


@dataclass(frozen=True)
class Span:
    start: float  # seconds after the first node started
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def _time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def spans(results: Mapping) -> dict[str, Span]:
    """unique_id -> when the node ran (compile start to execute end), from run_results.json."""
    raw = {}
    for result in results.get("results", []):
        timing = {t["name"]: t for t in result.get("timing", [])}
        execute = timing.get("execute") or {}
        if not execute.get("started_at") or not execute.get("completed_at"):
            continue
        begun = (timing.get("compile") or execute).get("started_at") or execute["started_at"]
        raw[result["unique_id"]] = (_time(begun), _time(execute["completed_at"]))
    if not raw:
        return {}
    t0 = min(start for start, _ in raw.values())
    return {
        uid: Span((start - t0).total_seconds(), (end - t0).total_seconds())
        for uid, (start, end) in raw.items()
    }


def upstream(manifest: Mapping) -> dict[str, list[str]]:
    """unique_id -> the nodes `dbt build` waits for before running it: its parents and the tests of each."""
    nodes = manifest.get("nodes", {})
    tests_of: dict[str, list[str]] = {}
    for uid, node in nodes.items():
        if node.get("resource_type") == "test":
            for parent in node.get("depends_on", {}).get("nodes", []):
                tests_of.setdefault(parent, []).append(uid)
    out = {}
    for uid, node in nodes.items():
        parents = node.get("depends_on", {}).get("nodes", [])
        waits = [p for parent in parents for p in (parent, *tests_of.get(parent, ())) if p != uid]
        out[uid] = list(dict.fromkeys(waits))
    return out


def critical_path(ran: Mapping[str, Span], waits_for: Mapping[str, list[str]]) -> list[str]:
    """The chain that ended last, first node first."""
    if not ran:
        return []
    node: str | None = max(ran, key=lambda uid: (ran[uid].end, uid))
    chain: list[str] = []
    while node is not None:
        chain.append(node)
        start = ran[node].start
        before = [
            p
            for p in waits_for.get(node, [])
            if p in ran and p not in chain and ran[p].end <= start + RELEASE_SLACK_S
        ]
        node = max(before, key=lambda uid: (ran[uid].end, uid)) if before else None
    return chain[::-1]


def seconds_by_concurrency(ran: Mapping[str, Span]) -> dict[int, float]:
    """Seconds during which exactly k nodes ran, k = 0, 1, 2, ... (between the first start and the last end)."""
    events = sorted([(s.start, 1) for s in ran.values()] + [(s.end, -1) for s in ran.values()])
    out: dict[int, float] = {}
    running, last = 0, events[0][0] if events else 0.0
    for at, step in events:
        out[running] = out.get(running, 0.0) + at - last
        running, last = running + step, at
    return out


def schedule(results: Mapping, manifest: Mapping, top: int = 5) -> dict:
    """critical_path_s (summed node time on the chain), one_node_s (seconds with one node running) and the
    `top` longest nodes of the chain as (unique_id, seconds)."""
    ran = spans(results)
    chain = critical_path(ran, upstream(manifest))
    by_k = seconds_by_concurrency(ran)
    longest = sorted(chain, key=lambda uid: (-ran[uid].seconds, uid))[:top]
    return {
        "critical_path_s": sum(ran[uid].seconds for uid in chain),
        "critical_path_nodes": float(len(chain)),
        "one_node_s": by_k.get(1, 0.0),
        "chain": [(uid, ran[uid].seconds) for uid in longest],
    }
