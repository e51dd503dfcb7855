"""Process pools whose workers hold one object: tasks get it, and a worker that dies says what to do."""

from __future__ import annotations

import os

import pytest

from python_jobs.worker_pool import holding_pool, submit_with_held, worker_result


def test_tasks_are_called_with_the_object_each_worker_holds():
    with holding_pool(10, 2) as pool:
        futures = [submit_with_held(pool, pow, exponent) for exponent in (1, 2, 3)]  # pow(10, exponent)
        assert [worker_result(f, "CHURN_SCORE_PROCESSES") for f in futures] == [10, 100, 1000]


def test_a_worker_that_dies_is_reported_with_the_setting_to_change():
    with holding_pool(3, 1) as pool:  # the held object is the exit code os._exit is called with
        future = submit_with_held(pool, os._exit)
        with pytest.raises(RuntimeError, match="worker process died.*CHURN_TAG_PROCESSES=1"):
            worker_result(future, "CHURN_TAG_PROCESSES")
