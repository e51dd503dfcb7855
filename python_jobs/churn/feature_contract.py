"""The churn_training_set contract follows the feature registry (seeds/churn_features.csv).

dbt contracts list every column with its type in YAML, which cannot loop over a seed, so the feature columns of
churn_training_set in models/ml/_ml__models.yml are generated from the seed (name, data_type, description and
source) between two marker comments; tests/python/test_churn_features.py fails when they drift. The select list
itself is generated at compile time by macros/churn_feature_columns.sql. Adding a feature: one seed row (name,
set, wording, source mart, type, optional SQL expression), then `python -m python_jobs.churn.feature_contract`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from python_jobs.config import REPO_ROOT

BEGIN = "# churn features: generated from seeds/churn_features.csv by python -m python_jobs.churn.feature_contract"
END = "# end of churn features"
INDENT = "      "


def _yaml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML flow scalar


def render_columns(seed_path: Path) -> list[str]:
    """One contract line per registered feature, in seed order."""
    with seed_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    lines = []
    for row in rows:
        description = _yaml_string(f"{row['description']} ({row['source']}).")
        lines.append(
            f"{INDENT}- {{name: {row['feature_name']}, data_type: {row['data_type']}, description: {description}}}"
        )
    return lines


def render(models_yml: str, seed_path: Path) -> str:
    """`models_yml` with the block between the markers replaced by the seed's feature columns."""
    lines = models_yml.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == BEGIN]
    ends = [i for i, line in enumerate(lines) if line.strip() == END]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise ValueError(f"expected one '{BEGIN}' ... '{END}' block in the ml models YAML")
    block = render_columns(seed_path)
    return "\n".join([*lines[: starts[0] + 1], *block, *lines[ends[0] :]]) + "\n"


def write(project_dir: Path = REPO_ROOT) -> Path:
    """Rewrite the contract of churn_training_set in `project_dir` from its seed; returns the YAML path."""
    path = project_dir / "models" / "ml" / "_ml__models.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(render(text, project_dir / "seeds" / "churn_features.csv"), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write()}")
