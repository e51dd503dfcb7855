"""`churn check`: is this export ready for `churn build`? Every problem at once, each with what to do."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from python_jobs.cli_options import path_option
from python_jobs.mapping.check import CheckResult, run_check
from python_jobs.mapping.spec import MappingError, load_mapping


def export_options(raw_path_required: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--mapping, --raw-path and --vars, shared by `churn check` and `churn build`."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(
            (
                path_option(
                    "--mapping",
                    "mapping_file",
                    exists=True,
                    dir_okay=False,
                    help="Mapping file describing your export (examples/mappings/template.yml); default: files "
                    "and columns named as in the raw contract.",
                ),
                path_option(
                    "--raw-path",
                    file_okay=False,
                    required=raw_path_required,
                    help="Folder of the exported files; the mapping's file names resolve against it.",
                ),
                click.option(
                    "--vars",
                    "vars_json",
                    default="{}",
                    help="dbt vars as JSON, e.g. '{\"churn_horizon_days\": 60}'.",
                ),
            )
        ):
            command = option(command)
        return command

    return decorate


def check_export(
    mapping_file: Path | None, raw_path: Path, cli_vars: dict[str, Any], staging: bool = True
) -> CheckResult:
    """Load the mapping, check the export through it (printing every problem) and return the result; `staging`:
    with the dry run of staging and the spine (run_check)."""
    try:
        mapping = load_mapping(mapping_file)
    except MappingError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Checking {raw_path} through {mapping_file or 'the raw contract'} ({mapping.source_system}) ..."
    )
    result = run_check(mapping, raw_path, mapping.warehouse_path().with_suffix(""), cli_vars, staging)
    click.echo(result.format())
    return result


@click.command()
@export_options(raw_path_required=True)
def check(mapping_file: Path | None, raw_path: Path, vars_json: str) -> None:
    """Validate an export against the raw contract through a mapping, before any build (exit 1 on errors)."""
    if check_export(mapping_file, raw_path, json.loads(vars_json)).errors:
        raise SystemExit(1)
