"""The `churn` command. Subcommands live in their own packages and are imported only when used."""

from __future__ import annotations

import importlib
import logging

import click

# name -> "module:attribute" of a click command; imported lazily so `churn --help` stays fast.
COMMANDS = {
    "generate": "python_jobs.synth.commands:generate",
    "demo": "python_jobs.demo:demo",
    "build": "python_jobs.build:build",
    "check": "python_jobs.mapping.commands:check",
    "enrich": "python_jobs.text.commands:enrich",
    "eval-text": "python_jobs.text.eval_command:eval_text",
    "report": "python_jobs.report.commands:report",
    "load-raw": "python_jobs.engines.commands:load_raw_command",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)


@click.group(cls=LazyGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log debug details.")
def main(verbose: bool) -> None:
    """ecom-churn-warehouse: who is about to leave, why, and what to do about it."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
