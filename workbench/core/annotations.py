"""Findings in CI's language: GitHub workflow annotations and SARIF 2.1.0 logs.

What ``review``, ``doctor``, ``status`` and ``verify`` report becomes a list of ``Annotation``
(level, message, file, line), rendered as ``::error file=...,line=...::message`` workflow
commands, or, for review findings, as a SARIF log that code scanning shows on the pull request.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from workbench.core.doctor import Problem
    from workbench.core.findings import Finding
    from workbench.core.graph import RevisionGraph
    from workbench.core.preview import Preview
    from workbench.core.scanned import Diagnostic
    from workbench.core.verify import VerifyReport

Level = Literal["error", "warning", "notice"]

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "migration-workbench"
TOOL_URI = "https://pypi.org/project/flask-migrate-workbench/"

_FINDING_LEVELS: Mapping[str, Level] = {"block": "error", "warn": "warning", "info": "notice"}
_PROBLEM_LEVELS: Mapping[str, Level] = {"error": "error", "warning": "warning", "info": "notice"}
_SARIF_LEVELS = {"error": "error", "warning": "warning", "notice": "note"}
_PARENT_KINDS = {"missing_parent", "cycle", "missing_dependency", "stale_docstring"}


@dataclass(frozen=True)
class Annotation:
    """One message for CI: how bad, what, and where (a file relative to the checkout, a line)."""

    level: Level
    message: str
    title: str | None = None
    file: str | None = None
    line: int | None = None
    rule: str | None = None


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_command(annotation: Annotation) -> str:
    """The annotation as a GitHub Actions workflow command, one line."""
    properties = []
    if annotation.file:
        properties.append(f"file={_escape_property(annotation.file)}")
        if annotation.line:
            properties.append(f"line={annotation.line}")
    if annotation.title:
        properties.append(f"title={_escape_property(annotation.title)}")
    head = f"::{annotation.level}"
    if properties:
        head += " " + ",".join(properties)
    return f"{head}::{_escape_data(annotation.message)}"


def github_commands(annotations: Iterable[Annotation]) -> str:
    """Workflow commands, one per line (empty text for none)."""
    return "".join(github_command(annotation) + "\n" for annotation in annotations)


def shown_path(path: str | None, root: str | None = None) -> str | None:
    """A path relative to the checkout (``root``, default the current folder), with ``/``."""
    if not path:
        return None
    relative = os.path.relpath(os.path.abspath(path), root or os.getcwd())
    if relative.startswith(".."):
        relative = os.path.abspath(path)
    return relative.replace(os.sep, "/")


_HEADER = {
    name: re.compile(rf"^{name}\s*(?::[^=]*)?=", re.MULTILINE)
    for name in ("revision", "down_revision")
}


def header_line(path: str | None, name: str = "revision") -> int | None:
    """The line of a revision file's ``revision =`` (or ``down_revision =``) header."""
    if not path:
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            source = file.read()
    except OSError:
        return None
    match = _HEADER[name].search(source)
    return source.count("\n", 0, match.start()) + 1 if match else None


def _finding_message(finding: Finding) -> str:
    database = f"[database {finding.database}] " if finding.database != "default" else ""
    fix = f" Fix: {finding.fix}" if finding.fix else ""
    return f"{database}{finding.message}{fix}"


def _finding_title(finding: Finding) -> str:
    target = ".".join(part for part in (finding.table, finding.column) if part)
    return f"{finding.rule} ({target})" if target else finding.rule


def review_annotations(review: Preview, root: str | None = None) -> list[Annotation]:
    """One annotation per finding, on the revision file (or the file migrate would write)."""
    path = shown_path(review.path, root)
    return [
        Annotation(
            level=_FINDING_LEVELS.get(finding.severity, "warning"),
            message=_finding_message(finding),
            title=_finding_title(finding),
            file=path,
            line=finding.line or (1 if path else None),
            rule=finding.rule,
        )
        for finding in review.findings
    ]


def _revision_place(
    graph: RevisionGraph | None, revisions: Sequence[str], header: str, root: str | None
) -> tuple[str | None, int | None]:
    """The file and header line of the first of some revisions the graph knows."""
    if graph is None:
        return None, None
    for revision in revisions:
        scanned = graph.revisions.get(revision)
        if scanned is not None and scanned.path:
            return shown_path(scanned.path, root), header_line(scanned.path, header) or 1
    return None, None


def doctor_annotations(
    problems: Sequence[Problem], graph: RevisionGraph | None = None, root: str | None = None
) -> list[Annotation]:
    """One annotation per problem, on the file of the revision it concerns when there is one."""
    annotations = []
    for problem in problems:
        header = "down_revision" if problem.kind in _PARENT_KINDS else "revision"
        file, line = _revision_place(graph, problem.revisions, header, root)
        message = problem.message
        if problem.fix_command:
            message = f"{message.rstrip('.')}. Fix: {problem.fix_command}"
        annotations.append(
            Annotation(
                level=_PROBLEM_LEVELS.get(problem.severity, "warning"),
                message=message,
                title=f"doctor: {problem.kind}",
                file=file,
                line=line,
                rule=problem.kind,
            )
        )
    return annotations


def status_annotations(
    statuses: Sequence[Any], graph: RevisionGraph | None = None, root: str | None = None
) -> list[Annotation]:
    """One error per database not at head, on the first revision it would run when known."""
    annotations = []
    for status in statuses:
        if status.at_head:
            continue
        file, line = _revision_place(graph, status.pending, "revision", root)
        current = ", ".join(status.current) or "base"
        pending = f"; pending: {', '.join(status.pending)}" if status.pending else ""
        annotations.append(
            Annotation(
                level="error",
                message=(
                    f"database {status.name} is {status.state.value} (at {current}): "
                    f"{status.reason}{pending}"
                ),
                title=f"status: {status.name} {status.state.value}",
                file=file,
                line=line,
                rule=f"status-{status.state.value}",
            )
        )
    return annotations


def history_annotations(
    diagnostics: Sequence[Diagnostic], refused: Sequence[Diagnostic], root: str | None = None
) -> list[Annotation]:
    """One annotation per diagnostic worth a line: an error where Alembic refuses the history."""
    annotations = []
    for diagnostic in diagnostics:
        header = "down_revision" if diagnostic.kind in _PARENT_KINDS else "revision"
        file = shown_path(diagnostic.path, root)
        line = (header_line(diagnostic.path, header) or 1) if file else None
        annotations.append(
            Annotation(
                level="error" if diagnostic in refused else "warning",
                message=diagnostic.message,
                title=f"history: {diagnostic.kind}",
                file=file,
                line=line,
                rule=diagnostic.kind,
            )
        )
    return annotations


def verify_annotations(
    report: VerifyReport, graph: RevisionGraph | None = None, root: str | None = None
) -> list[Annotation]:
    """One error per failed check (per failed revision of up/down/up), on its revision file."""
    annotations = []
    for check in report.checks:
        if check.status != "failed":
            continue
        failed = [revision for revision in check.revisions if not revision.passed]
        if not failed:
            revisions = [check.revision] if check.revision else []
            file, line = _revision_place(graph, revisions, "revision", root)
            annotations.append(
                Annotation("error", check.message, f"verify: {check.name}", file, line, check.name)
            )
        for revision in failed:
            file, line = _revision_place(graph, [revision.revision], "revision", root)
            step = f" ({revision.step})" if revision.step else ""
            annotations.append(
                Annotation(
                    "error",
                    f"{revision.revision}{step}: {revision.message or check.message}",
                    f"verify: {check.name}",
                    file,
                    line,
                    check.name,
                )
            )
    return annotations


def sarif_log(
    annotations: Sequence[Annotation],
    tool_version: str,
    rule_help: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A SARIF 2.1.0 log of one run: the tool, its rules (ids seen), one result per annotation."""
    rule_ids = sorted({annotation.rule or "finding" for annotation in annotations})
    rules = []
    for rule_id in rule_ids:
        rule: dict[str, Any] = {"id": rule_id, "name": _rule_name(rule_id)}
        text = (rule_help or {}).get(rule_id)
        rule["shortDescription"] = {"text": text or rule_id.replace("-", " ")}
        rules.append(rule)
    results = []
    for annotation in annotations:
        rule_id = annotation.rule or "finding"
        result: dict[str, Any] = {
            "ruleId": rule_id,
            "ruleIndex": rule_ids.index(rule_id),
            "level": _SARIF_LEVELS[annotation.level],
            "message": {"text": annotation.message},
        }
        if annotation.file:
            location: dict[str, Any] = {
                "artifactLocation": {"uri": annotation.file, "uriBaseId": "%SRCROOT%"}
            }
            if annotation.line:
                location["region"] = {"startLine": annotation.line}
            result["locations"] = [{"physicalLocation": location}]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": tool_version,
                        "informationUri": TOOL_URI,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }


def _rule_name(rule_id: str) -> str:
    """A rule id as SARIF's PascalCase name: ``index-not-concurrent`` -> ``IndexNotConcurrent``."""
    return "".join(part.capitalize() for part in re.split(r"[-_\s]+", rule_id) if part)
