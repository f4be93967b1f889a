"""Findings against the script text: acknowledgement comments, and the line of each op.

Both read the script as Python (comments via ``tokenize``, calls via ``ast``), so quote style,
line breaks inside a call and ``op.f(...)`` wrappers do not matter.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from alembic.operations import ops

from workbench.core.findings import Finding, OpPath
from workbench.core.review.optree import walk

_ACK = re.compile(
    r"#\s*workbench:\s*ack\s+(?P<rule>[a-z0-9-]+)(?:[ \t]+(?P<target>[^\s#]+))?", re.IGNORECASE
)
_ACK_MARK = "workbench:"
"""Text every acknowledgement holds: a script without it needs no tokenizing."""

# Positional parameters of each op method, in the `op.` form; batch forms drop "table".
_CALL_PARAMETERS = {
    "add_column": ("table", "column"),
    "drop_column": ("table", "name"),
    "alter_column": ("table", "name"),
    "create_table": ("table",),
    "drop_table": ("table",),
    "rename_table": ("table",),
    "create_index": ("name", "table"),
    "drop_index": ("name", "table"),
    "create_unique_constraint": ("name", "table"),
    "create_foreign_key": ("name", "table"),
    "create_check_constraint": ("name", "table"),
    "create_primary_key": ("name", "table"),
    "drop_constraint": ("name", "table"),
    "execute": (),
    "bulk_insert": (),
}
_KEYWORD_PARAMETERS = {
    "table_name": "table",
    "source_table": "table",
    "old_table_name": "table",
    "column_name": "name",
    "index_name": "name",
    "constraint_name": "name",
    "column": "column",
}

CallKey = tuple[str, str | None, str | None]
"""An op call as the script and the op tree both spell it: (method, table, name)."""


@dataclass(frozen=True)
class Acknowledgement:
    """A ``# workbench: ack <rule> [<table>[.<column>]]`` comment of a script."""

    rule: str
    target: str | None
    line: int

    def covers(self, finding: Finding) -> bool:
        """True when this comment acknowledges the finding."""
        if self.rule != finding.rule:
            return False
        return self.target is None or self.target in (finding.table, finding.target)


def acknowledgements(script_text: str) -> list[Acknowledgement]:
    """Every acknowledgement comment of a script, in line order."""
    if _ACK_MARK not in script_text.lower():
        return []
    found = []
    for line, comment in _comments(script_text):
        match = _ACK.search(comment)
        if match:
            found.append(Acknowledgement(match["rule"].lower(), match["target"], line))
    return found


def unacknowledged(findings: Iterable[Finding], script_text: str) -> list[Finding]:
    """The findings no acknowledgement comment of the script covers."""
    acks = acknowledgements(script_text)
    return [finding for finding in findings if not any(ack.covers(finding) for ack in acks)]


def locate_lines(
    findings: Iterable[Finding],
    upgrade_ops: ops.OpContainer,
    script_text: str,
    function: str = "upgrade",
) -> dict[Finding, int]:
    """The 1-based script line of the op each finding points at, where it can be found.

    Ops and calls are matched by method, table and name, the n-th op of a kind to the n-th
    call of that kind inside ``function`` (the whole script when it has no such function;
    ``downgrade`` or ``upgrade_<bind>`` for the other functions of a script). A script that
    does not parse yields no lines.
    """
    line_offset = 0
    try:
        tree = ast.parse(script_text)
    except SyntaxError:
        try:  # a body rendered on its own (render_python_code) is indented
            tree = ast.parse("if True:\n" + script_text)
            line_offset = -1
        except SyntaxError:
            return {}
    body: ast.AST = next(
        (
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.name == function
        ),
        tree,
    )
    lines_by_key: dict[CallKey, list[int]] = defaultdict(list)
    for key, (line, _) in sorted(_script_calls(body), key=lambda call: call[1]):
        lines_by_key[key].append(line + line_offset)

    paths_by_key: dict[CallKey, list[OpPath]] = defaultdict(list)
    for item in walk(upgrade_ops):
        key = _op_key(item.op)
        if key is not None:
            paths_by_key[key].append(item.path)
    line_of_path: dict[OpPath, int] = {}
    for key, paths in paths_by_key.items():
        lines = lines_by_key.get(key) or lines_by_key.get((key[0], None, key[2])) or []
        for path, line in zip(paths, lines, strict=False):
            line_of_path[path] = line
    return {
        finding: line_of_path[finding.op_index]
        for finding in findings
        if finding.op_index in line_of_path
    }


def _comments(script_text: str) -> Iterator[tuple[int, str]]:
    """(line, text) of every comment, up to the first token a broken script cannot give."""
    tokens = tokenize.generate_tokens(io.StringIO(script_text).readline)
    try:
        for token in tokens:
            if token.type == tokenize.COMMENT:
                yield token.start[0], token.string
    except (tokenize.TokenError, SyntaxError):
        return


def _op_key(op: ops.MigrateOperation) -> CallKey | None:
    if isinstance(op, ops.AddColumnOp):
        return ("add_column", op.table_name, op.column.name)
    if isinstance(op, ops.DropColumnOp):
        return ("drop_column", op.table_name, op.column_name)
    if isinstance(op, ops.AlterColumnOp):
        return ("alter_column", op.table_name, op.column_name)
    if isinstance(op, ops.CreateTableOp):
        return ("create_table", op.table_name, None)
    if isinstance(op, ops.DropTableOp):
        return ("drop_table", op.table_name, None)
    if isinstance(op, ops.RenameTableOp):
        return ("rename_table", op.table_name, None)
    if isinstance(op, ops.CreateIndexOp):
        return ("create_index", op.table_name, _name(op.index_name))
    if isinstance(op, ops.DropIndexOp):
        return ("drop_index", op.table_name, _name(op.index_name))
    if isinstance(op, ops.CreateForeignKeyOp):
        return ("create_foreign_key", op.source_table, _name(op.constraint_name))
    constraint_methods = {
        ops.CreateUniqueConstraintOp: "create_unique_constraint",
        ops.CreateCheckConstraintOp: "create_check_constraint",
        ops.CreatePrimaryKeyOp: "create_primary_key",
        ops.DropConstraintOp: "drop_constraint",
    }
    method = constraint_methods.get(type(op))
    if method is not None:
        return (method, getattr(op, "table_name", None), _name(op.constraint_name))
    if isinstance(op, ops.ExecuteSQLOp):
        return ("execute", None, None)
    if isinstance(op, ops.BulkInsertOp):
        return ("bulk_insert", None, None)
    return None


def _name(name: object) -> str | None:
    return None if name is None else str(name)


def _script_calls(body: ast.AST) -> Iterator[tuple[CallKey, tuple[int, int]]]:
    """(key, position) of every op call under a node, batch calls resolved to their table."""
    batch_table_of_call: dict[int, str | None] = {}
    for node in ast.walk(body):
        if not isinstance(node, (ast.With, ast.AsyncWith)):
            continue
        for item in node.items:
            call = item.context_expr
            if not (
                isinstance(call, ast.Call)
                and _method(call) == "batch_alter_table"
                and isinstance(item.optional_vars, ast.Name)
            ):
                continue
            table = _argument(call, 0, ("table_name",))
            for statement in node.body:
                for inner in ast.walk(statement):
                    if _receiver(inner) == item.optional_vars.id:
                        batch_table_of_call[id(inner)] = table
    for node in ast.walk(body):
        if not isinstance(node, ast.Call) or _method(node) not in _CALL_PARAMETERS:
            continue
        method = _method(node)
        parameters = _CALL_PARAMETERS[method]
        in_batch = id(node) in batch_table_of_call
        if in_batch:
            parameters = tuple(parameter for parameter in parameters if parameter != "table")
        values = _call_values(node, parameters)
        table = batch_table_of_call[id(node)] if in_batch else values.get("table")
        name = values.get("column") if method == "add_column" else values.get("name")
        yield (method, table, name), (node.lineno, node.col_offset)


def _call_values(call: ast.Call, parameters: tuple[str, ...]) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for position, parameter in enumerate(parameters):
        if position < len(call.args):
            values[parameter] = _text(call.args[position], parameter)
    for keyword in call.keywords:
        parameter = _KEYWORD_PARAMETERS.get(keyword.arg or "")
        if parameter is not None and parameter in parameters:
            values[parameter] = _text(keyword.value, parameter)
    return values


def _text(node: ast.expr, parameter: str) -> str | None:
    """A string argument's value; a Column's name for "column"; ``op.f('x')`` as 'x'."""
    if parameter == "column" and isinstance(node, ast.Call) and node.args:
        node = node.args[0]
    if isinstance(node, ast.Call) and _method(node) == "f" and node.args:
        node = node.args[0]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _argument(call: ast.Call, position: int, keywords: tuple[str, ...]) -> str | None:
    if position < len(call.args):
        return _text(call.args[position], "")
    for keyword in call.keywords:
        if keyword.arg in keywords:
            return _text(keyword.value, "")
    return None


def _method(call: ast.Call) -> str | None:
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def _receiver(node: ast.AST) -> str | None:
    """``batch_op`` for a call ``batch_op.something(...)``."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return None
    return node.func.value.id if isinstance(node.func.value, ast.Name) else None
