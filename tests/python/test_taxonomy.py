"""One list of complaint topics: seeds/topic_taxonomy.csv feeds the tag schema, the synthetic world and the
dbt voice_topics macro (customer_voice's topic columns); a topic added to a copy of the seed shows up in all."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from conftest import REPO_ROOT, dbt_env

from python_jobs.dbt_runner import run_dbt
from python_jobs.synth import params
from python_jobs.taxonomy import TAXONOMY_PATH, topic_keys
from python_jobs.text import schema


def test_python_topics_are_the_seed_keys() -> None:
    with TAXONOMY_PATH.open(newline="", encoding="utf-8") as handle:
        keys = tuple(row["topic_key"] for row in csv.DictReader(handle))
    assert schema.TOPICS == params.TOPICS == keys
    assert schema.tag_schema()["properties"]["topics"]["items"]["enum"] == list(keys)


def test_a_new_seed_topic_reaches_python_and_the_compiled_voice_mart(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO_ROOT / "dbt_project.yml", project)
    shutil.copy(REPO_ROOT / "profiles.yml", project)
    for folder in ("models", "macros", "seeds"):
        shutil.copytree(REPO_ROOT / folder, project / folder)
    seed = project / "seeds" / "topic_taxonomy.csv"
    with seed.open("a", encoding="utf-8") as handle:
        handle.write('loyalty_program,Loyalty programme,"Points, tiers, member perks"\n')

    assert topic_keys(seed)[-1] == "loyalty_program"
    work = tmp_path / "work"
    run_dbt(["compile", "--select", "customer_voice"], project_dir=project, env=dbt_env(work))
    compiled = next((work / "target" / "compiled").rglob("customer_voice.sql")).read_text(encoding="utf-8")
    for key in topic_keys(seed):
        assert f"as topic_{key}_count" in compiled
