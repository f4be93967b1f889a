"""The child protocol: request types and handlers agree, and everything survives the wire."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import workbench
from workbench.core.preview import FixRequest
from workbench.core.verify import CheckResult, RevisionCheck
from workbench.runtime.events import (
    EVENTS,
    Cancelled,
    Check,
    Failed,
    Finished,
    Log,
    Output,
    Standing,
    Started,
    Step,
)
from workbench.runtime.requests import OPERATIONS, PreviewRequest, Request, StampRequest
from workbench.runtime.wire import decode_event, decode_request, encode_event, encode_request
from workbench.services.operations import HANDLERS

PACKAGE = Path(workbench.__file__).parent


def through_the_wire(data: dict) -> dict:
    """Data as the other process reads it: JSON text and back."""
    return json.loads(json.dumps(data))


def test_every_request_type_has_a_handler_and_one_name():
    request_types = Request.__subclasses__()

    assert set(HANDLERS) == set(request_types) == set(OPERATIONS.values())
    assert len({kind.operation for kind in request_types}) == len(request_types)
    assert all(OPERATIONS[kind.operation] is kind for kind in request_types)
    assert len(EVENTS) == len({kind.event for kind in EVENTS.values()}) == 8


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_every_request_round_trips_through_the_encoding(operation):
    request = OPERATIONS[operation](directory="db", x_arg=("a=1", "b=2"))

    assert decode_request(through_the_wire(encode_request(request))) == request


def test_a_request_with_nested_values_round_trips():
    request = PreviewRequest(
        message="rename",
        rev_id="bbbb0002",
        fixes=(FixRequest("users", "probable-column-rename", (0, 2)),),
    )

    encoded = through_the_wire(encode_request(request))

    assert encoded["operation"] == "preview"
    assert encoded["arguments"]["fixes"] == [
        {"database": "users", "rule": "probable-column-rename", "op_index": [0, 2]}
    ]
    assert decode_request(encoded) == request


def test_events_round_trip_through_the_encoding():
    events = [
        Started(StampRequest(revision="base", purge=True), 42),
        Step("done", 1, 2, "upgrade", "aaaa0001", "default", (), ("aaaa0001",)),
        Step("started", 1, 1, "stamp", None, "users"),
        Log("INFO", "alembic", "Running upgrade"),
        Output("sql", "CREATE TABLE t (id INTEGER);\n"),
        Check(
            CheckResult(
                "up-down-up",
                "failed",
                "bbbb0002 does not downgrade",
                "bbbb0002",
                (RevisionCheck("bbbb0002", False, "downgrade", "no such table"),),
            )
        ),
        Finished({"steps": [{"revision": "aaaa0001"}]}),
        Failed("boom", "Traceback ...", (Standing("default", "sqlite:///x.db", ("aaaa0001",)),)),
        Cancelled("cancelled", (Standing("users", "postgresql://u:***@h/db", (), "refused"),)),
    ]

    for event in events:
        encoded = through_the_wire(encode_event(event))
        assert encoded["event"] == event.event
        assert decode_event(encoded) == event


@pytest.mark.parametrize(
    "data",
    [
        {"event": "shout", "text": "x"},
        {"event": "log", "level": "INFO"},
        {"event": "output", "stream": "stdout", "text": "x", "extra": 1},
        {"event": "finished", "result": "forged by env.py"},
    ],
)
def test_data_that_is_not_an_event_is_refused(data):
    with pytest.raises(ValueError):
        decode_event(data)


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize(
    ("package", "above"),
    [
        ("core", ("runtime", "project", "services", "cli", "tui", "extension", "demo")),
        ("runtime", ("project", "services", "cli", "tui", "extension", "demo")),
    ],
)
def test_the_domain_and_the_runtime_import_nothing_above_them(package, above):
    forbidden = tuple(f"workbench.{name}" for name in above)
    for path in sorted((PACKAGE / package).rglob("*.py")):
        wrong = [name for name in imported_modules(path) if name.startswith(forbidden)]
        assert not wrong, f"{path.relative_to(PACKAGE)} imports {wrong}"
