"""Process pools whose workers each hold one large object (a fitted model), sent once when the worker starts
instead of with every task. Used where the work is Python that a second thread cannot speed up (the local
tagger, churn scoring) and there is enough of it to repay starting a process."""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

_held: Any = None  # the object of this worker process, set once by _hold


def _hold(pickled: bytes) -> None:
    global _held
    _held = pickle.loads(pickled)


def _call_with_held(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    return fn(_held, *args)


def holding_pool(obj: Any, processes: int) -> ProcessPoolExecutor:
    """`processes` spawned workers, each holding a copy of `obj`. Spawned, never forked: the parent may be dbt,
    which runs threads. `obj` travels pickled to bytes and is unpickled by the worker's initializer: unpickled
    while the worker starts, it made the parent wait on the pipe while each worker in turn imported what `obj`
    needs (scikit-learn, pandas: ~1.2 s each), so the workers started one after the other."""
    return ProcessPoolExecutor(
        processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_hold,
        initargs=(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL),),
    )


def submit_with_held(pool: ProcessPoolExecutor, fn: Callable[..., Any], *args: Any) -> Future:
    """Run `fn(held object, *args)` in a worker of `pool` (fn: a module-level function, so it pickles)."""
    return pool.submit(_call_with_held, fn, args)


def worker_result(future: Future, setting: str) -> Any:
    """The future's result; a worker process that died (the system killed it, most often for lack of memory)
    is reported with what to do, naming `setting`, the variable that sets the number of processes."""
    try:
        return future.result()
    except BrokenProcessPool as err:
        raise RuntimeError(
            f"a worker process died before it finished (most often the system stopped it for lack of memory): "
            f"set {setting}=1 to work in this one process, or lower CHURN_DUCKDB_MEMORY to leave the workers room"
        ) from err
