"""Where a dbt build's elapsed time went: the chain of nodes that decided when it ended, and how much of it ran
with only one node busy.

With two dbt threads, a build is either bound by a chain (each node waits for the one before it; cutting nodes
off the chain shortens the build, adding threads does not) or by throughput (both threads busy; only less
work shortens it). The critical path is traced back from the node that ended last: each step goes to the
upstream node, or a data test of one (`dbt build` runs a node only after its parents' tests), that ended last
before the step started. Its summed node time below dbt's elapsed time is time its nodes waited for a thread.

A throughput-bound build gets shorter by cutting CPU, wherever it is spent: with the build's CPU sampled over
time (python_jobs.bench.proc_tree), each sample interval's CPU is split among the nodes that ran in it, by how
long each ran within it. The CPU of worker processes (text tagging, scoring) goes only to the Python models that
ran then: SQL nodes start no process. An estimate (a node waiting on the other's query gets a share of the dbt
process's CPU too), good for finding where the CPU goes, not for a node's exact cost. The same samples hold the
tree's RSS: the nodes running at its sampled peak are the suspects when a build nears its memory bound.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

# A node starts a few milliseconds after the parent that released it ends; timestamps are per thread.
RELEASE_SLACK_S = 0.5


@dataclass(frozen=True)
class Span:
    start: float  # epoch seconds
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def spans(results: Mapping) -> dict[str, Span]:
    """unique_id -> when the node ran (compile start to execute end), from run_results.json."""
    out = {}
    for result in results.get("results", []):
        timing = {t["name"]: t for t in result.get("timing", [])}
        execute = timing.get("execute") or {}
        if not execute.get("started_at") or not execute.get("completed_at"):
            continue
        begun = (timing.get("compile") or execute).get("started_at") or execute["started_at"]
        out[result["unique_id"]] = Span(_epoch(begun), _epoch(execute["completed_at"]))
    return out


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


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


# a sample of the process tree (proc_tree.TreeSampler.series): epoch seconds, CPU seconds so far of the whole tree,
# RSS bytes, CPU seconds so far of the root process (dbt, DuckDB and in-process Python; the rest is workers')
Sample = tuple[float, float, int, float]


def cpu_by_node(
    ran: Mapping[str, Span], series: Sequence[Sample], starts_workers: Collection[str] = ()
) -> dict[str, float]:
    """CPU seconds per node: each interval between two samples split among the nodes that ran in it, in
    proportion to how long each ran within it; intervals with no node are left out. The worker processes' CPU
    is split only among the nodes of `starts_workers` (the Python models) that ran in the interval, or among
    all when none did."""
    if len(series) < 2 or not ran:
        return {}
    uids = list(ran)
    starts = np.array([ran[u].start for u in uids])
    ends = np.array([ran[u].end for u in uids])
    can_start = np.isin(uids, list(starts_workers))
    at, tree, _, root = np.array(series, dtype="float64").T
    used_root, used_tree = np.diff(root), np.diff(tree)
    out = np.zeros(len(uids))
    for a, b, by_root, by_tree in zip(at[:-1], at[1:], used_root, used_tree, strict=True):
        overlap = np.clip(np.minimum(ends, b) - np.maximum(starts, a), 0.0, None)
        if by_tree <= 0 or overlap.sum() <= 0:
            continue
        owners = overlap * can_start
        owners = owners if owners.sum() > 0 else overlap
        out += by_root * overlap / overlap.sum() + (by_tree - by_root) * owners / owners.sum()
    return {u: float(c) for u, c in zip(uids, out, strict=True) if c > 0}


def at_peak(ran: Mapping[str, Span], series: Sequence[Sample]) -> tuple[float, list[str]]:
    """The largest sampled RSS (bytes) while a node ran, and the nodes running at that sample."""
    best: tuple[float, list[str]] = (0.0, [])
    for at, _, rss, _ in series:
        running = sorted(uid for uid, span in ran.items() if span.start <= at < span.end)
        if running and rss > best[0]:
            best = (float(rss), running)
    return best


def models_in(manifest: Mapping, language: str) -> dict[str, Mapping]:
    """unique_id -> manifest node of the project's models written in `language` ('sql' or 'python')."""
    return {
        uid: node
        for uid, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") == "model" and node.get("language") == language
    }


def schedule(results: Mapping, manifest: Mapping, top: int = 5, samples: Sequence[Sample] = ()) -> dict:
    """critical_path_s (summed node time on the chain), one_node_s (seconds with one node running), the `top`
    longest nodes of the chain, and from the build's samples the `top` nodes by CPU (all of them in cpu_by_node)
    and the nodes running at the RSS peak (peak_rss_mb), as (unique_id, seconds the node ran)."""
    ran = spans(results)
    chain = critical_path(ran, upstream(manifest))
    by_k = seconds_by_concurrency(ran)
    longest = sorted(chain, key=lambda uid: (-ran[uid].seconds, uid))[:top]
    cpu = cpu_by_node(ran, samples, starts_workers=models_in(manifest, "python"))
    peak_rss, peak_nodes = at_peak(ran, samples)
    return {
        "critical_path_s": sum(ran[uid].seconds for uid in chain),
        "critical_path_nodes": float(len(chain)),
        "one_node_s": by_k.get(1, 0.0),
        "chain": [(uid, ran[uid].seconds) for uid in longest],
        "cpu": sorted(cpu.items(), key=lambda kv: (-kv[1], kv[0]))[:top],
        "cpu_by_node": cpu,
        "peak_rss_mb": peak_rss / 2**20,
        "at_peak": [(uid, ran[uid].seconds) for uid in peak_nodes],
    }
