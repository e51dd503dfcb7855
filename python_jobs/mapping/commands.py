"""`churn check`: is this export ready for `churn build`? Every problem at once, each with what to do."""

from __future__ import annotations

import json
from pathlib import Path

import click

from python_jobs.mapping.check import run_check
from python_jobs.mapping.spec import MappingError, load_mapping


@click.command()
@click.option(
    "--mapping",
    "mapping_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Mapping file (default: files named after the contract tables, columns named as in the contract).",
)
@click.option(
    "--raw-path",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder of the exported files; the mapping's file names resolve against it.",
)
@click.option("--vars", "vars_json", default="{}", help="dbt vars as JSON (as for churn build).")
def check(mapping_file: Path | None, raw_path: Path, vars_json: str) -> None:
    """Validate an export against the raw contract through a mapping, before any build."""
    try:
        mapping = load_mapping(mapping_file)
    except MappingError as exc:
        raise click.ClickException(str(exc)) from exc
    db = mapping.warehouse_path()
    click.echo(
        f"Checking {raw_path} through {mapping_file or 'the raw contract'} ({mapping.source_system}) ..."
    )
    result = run_check(mapping, raw_path, db.with_suffix(""), json.loads(vars_json))
    click.echo(result.format())
    if result.errors:
        raise SystemExit(1)
