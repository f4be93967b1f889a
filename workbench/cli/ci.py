"""``--format`` for the checks CI runs: text, json, GitHub workflow annotations, SARIF."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from workbench.core.annotations import Annotation

DISTRIBUTION = "flask-migrate-workbench"
FORMAT_HELP = {
    "text": "text for a person",
    "json": "JSON",
    "github": "GitHub workflow annotations (::error file=...,line=...::message)",
    "sarif": "a SARIF 2.1.0 log for code scanning",
}


def format_option(*formats: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--format`` with the given choices (text first, the default)."""
    choices = ["text", *formats]
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(choices),
        default="text",
        show_default=True,
        help="Output format: " + "; ".join(f"{name}: {FORMAT_HELP[name]}" for name in choices),
    )


def echo_github(annotations: Sequence[Annotation]) -> None:
    """Print workflow commands on stdout, where GitHub Actions reads them."""
    from workbench.core.annotations import github_commands

    click.echo(github_commands(annotations), nl=False)


def echo_sarif(annotations: Sequence[Annotation]) -> None:
    """Print a SARIF log of the annotations on stdout."""
    from workbench.core.annotations import sarif_log

    click.echo(json.dumps(sarif_log(annotations, _version()), indent=2))


def _version() -> str:
    """The installed package's version, for the SARIF log's tool."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0"


def echo_error_annotation(message: str) -> None:
    """A command's failure as one ``::error::`` workflow command on stdout."""
    from workbench.core.annotations import Annotation

    echo_github([Annotation("error", message)])
