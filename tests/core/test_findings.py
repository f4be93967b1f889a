"""One finding model: the rules make it, the preview carries it between processes as JSON."""

from __future__ import annotations

import json

from workbench.core.findings import Finding, Severity
from workbench.core.preview import DatabasePreview, Preview

PLACED = Finding(
    "probable-column-rename",
    Severity.BLOCK,
    "users.name is dropped and users.full_name added",
    "rename the column",
    "users",
    "name",
    (0, 1),
    ((0, 2),),
    "full_name",
    rewrite_available=True,
    line=23,
    database="users",
)


def test_a_finding_survives_its_json_unchanged():
    sent = json.loads(json.dumps(PLACED.to_json()))

    assert Finding.from_json(sent) == PLACED
    assert sent["severity"] == "block"


def test_a_preview_carries_its_findings_through_json():
    preview = Preview(
        revision="abc",
        message="m",
        script="s",
        path="/p",
        databases=(DatabasePreview("users", "sqlite", findings=(PLACED,)),),
    )

    received = Preview.from_dict(json.loads(json.dumps(preview.to_dict())))

    assert received == preview
    assert received.findings[0].blocks
    assert received.worst_severity() is Severity.BLOCK


def test_a_severity_is_its_word():
    assert [str(severity) for severity in Severity] == ["block", "warn", "info"]
    assert Severity.WARN == "warn" and f"{Severity.INFO}" == "info"
    assert {"block": 1}[Severity.BLOCK] == 1
