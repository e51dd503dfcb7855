"""Click options the `churn` subcommands share."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def path_option(
    *decls: str,
    help: str | None = None,
    exists: bool = False,
    file_okay: bool = True,
    dir_okay: bool = True,
    **kwargs: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A click option whose value is a pathlib.Path; default None unless `default` is given. `kwargs` go to
    click.option (e.g. multiple, required, show_default)."""
    kwargs.setdefault("default", None)
    kind = click.Path(exists=exists, file_okay=file_okay, dir_okay=dir_okay, path_type=Path)
    return click.option(*decls, type=kind, help=help, **kwargs)
