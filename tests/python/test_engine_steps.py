"""Python steps outside dbt, without a server: the wave plan, the step runner's merge and the table comparison."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from python_jobs.engines.compare import table_differences
from python_jobs.engines.orchestrate import plan_waves
from python_jobs.engines.steps import Step, run_step
from python_jobs.engines.warehouse_io import MemoryWarehouse


def _node(name: str, kind: str = "model") -> dict:
    return {"name": name, "resource_type": kind}


def test_waves_run_steps_as_soon_as_their_inputs_exist() -> None:
    src = "source.p.python_{}.{}"
    manifest = {
        "metadata": {"project_name": "p"},
        "nodes": {
            "model.p.fct": _node("fct"),
            "test.p.not_null_fct": _node("not_null_fct", "test"),
            "model.p.voice": _node("voice"),
            "model.p.report": _node("report"),
            "test.p.report_matches_fct": _node("report_matches_fct", "test"),
        },
        "parent_map": {
            "model.p.fct": [],
            "test.p.not_null_fct": ["model.p.fct"],
            "model.p.voice": [src.format("enrichment", "tags")],
            "model.p.report": [src.format("ml", "scores"), "model.p.voice"],
            "test.p.report_matches_fct": ["model.p.report", "model.p.fct"],
        },
    }

    def step(name: str, schema: str, refs: tuple[str, ...]) -> Step:
        return Step(f"model.p.{name}", name, schema, Path(f"{name}.py"), refs, {"materialized": "table"})

    steps = {
        "tags": step("tags", "enrichment", ("fct",)),
        "scores": step("scores", "ml", ("voice",)),
        "segments": step("segments", "ml", ("scores", "fct")),
    }
    waves = plan_waves(manifest, steps)
    assert [(w.nodes, [s.name for s in w.steps]) for w in waves] == [
        (("fct", "not_null_fct"), ["tags"]),
        (("voice",), ["scores", "segments"]),  # segments needs scores, run earlier in the same wave
        (("report", "report_matches_fct"), []),
    ]


MODEL = """
def model(dbt, session):
    dbt.config(materialized="incremental")
    source = dbt.ref("texts")
    if dbt.is_incremental:  # only rows whose text changed, as the enrichment steps do
        source = source.filter(f"text_id || text not in (select text_id || text from {dbt.this})")
    return source.project("text_id, text, upper(text) as tag")
"""


def test_incremental_step_merges_by_unique_key_like_delete_insert_and_drops_rows_gone_upstream(
    tmp_path: Path,
) -> None:
    (tmp_path / "tags.py").write_text(MODEL)
    step = Step(
        "model.p.tags",
        "tags",
        "enrichment",
        tmp_path / "tags.py",
        ("texts",),
        {"materialized": "incremental", "unique_key": "text_id", "meta": {"row_input": "texts"}},
    )
    schemas = {"texts": "marts", "tags": "enrichment"}
    texts = pa.table({"text_id": ["a", "b"], "text": ["late", "broken"]})
    warehouse = MemoryWarehouse({("marts", "texts"): texts})
    assert run_step(step, warehouse, schemas) == 2
    warehouse.tables[("marts", "texts")] = pa.table(
        {"text_id": ["a", "b", "c"], "text": ["late", "fixed", "new"]}
    )
    run_step(step, warehouse, schemas)
    tags = warehouse.read("enrichment", "tags").sort_by("text_id").to_pydict()
    assert tags == {
        "text_id": ["a", "b", "c"],
        "text": ["late", "fixed", "new"],
        "tag": ["LATE", "FIXED", "NEW"],
    }
    warehouse.tables[("marts", "texts")] = pa.table({"text_id": ["b", "c"], "text": ["fixed", "new"]})
    run_step(step, warehouse, schemas)  # nothing to tag: "a" is gone upstream, so its tags go too
    assert warehouse.read("enrichment", "tags").sort_by("text_id")["text_id"].to_pylist() == ["b", "c"]


def test_failed_step_leaves_the_previous_table(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("def model(dbt, session):\n    raise RuntimeError('model broke')\n")
    step = Step("model.p.bad", "bad", "ml", tmp_path / "bad.py", (), {"materialized": "table"})
    previous = pa.table({"x": [1]})
    warehouse = MemoryWarehouse({("ml", "bad"): previous})
    with pytest.raises(RuntimeError, match="model broke"):
        run_step(step, warehouse, {})
    assert warehouse.read("ml", "bad") is previous


def test_table_differences_ignores_order_and_float_noise_but_not_truncation() -> None:
    left = pa.table({"id": ["a", "b"], "share": [0.25, 1 / 3], "topics": [["x"], []]})
    shuffled = pa.table({"id": ["b", "a"], "share": [1 / 3 + 1e-15, 0.25], "topics": [[], ["x"]]})
    assert table_differences(left, shuffled) == []
    truncated = pa.table({"id": ["a", "b"], "share": [0.0, 0.0], "topics": [["x"], []]})
    assert table_differences(left, truncated) == ["share: 2 of 2 values differ (e.g. 0.25 vs 0.0)"]
    assert table_differences(left, left.drop_columns(["topics"]))[0].startswith("columns differ")
    assert table_differences(left, left.slice(0, 1)) == ["rows differ: 2 vs 1"]
