"""What a revision's ``upgrade()`` touches (tables, columns, indexes, constraints), via ``ast``.

Branch conflicts and the doctor need what each revision changes without importing it (real
files often fail to import outside their app); a call whose arguments are not literals, or a
function nobody knows, is reported as not understood with its line, never guessed.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import os
import time
import tokenize
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from workbench.core.scan_cache import RACY_WINDOW_NS

NOT_UNDERSTOOD = "not_understood"
COLUMN_KINDS = frozenset({"add_column", "drop_column", "alter_column"})

# Each known operation: its leading parameters in order (as ``op.<name>`` takes them), then
# which of them holds the table, the object's name and its new name.
_OPERATIONS: dict[str, tuple[tuple[str, ...], str | None, str | None, str | None]] = {
    "add_column": (("table_name", "column"), "table_name", "column", None),
    "drop_column": (("table_name", "column_name"), "table_name", "column_name", None),
    "alter_column": (
        ("table_name", "column_name"),
        "table_name",
        "column_name",
        "new_column_name",
    ),
    "create_table": (("table_name",), "table_name", None, None),
    "drop_table": (("table_name",), "table_name", None, None),
    "rename_table": (
        ("old_table_name", "new_table_name"),
        "old_table_name",
        None,
        "new_table_name",
    ),
    "create_index": (("index_name", "table_name"), "table_name", "index_name", None),
    "drop_index": (("index_name", "table_name"), "table_name", "index_name", None),
    "create_unique_constraint": (
        ("constraint_name", "table_name"),
        "table_name",
        "constraint_name",
        None,
    ),
    "create_primary_key": (
        ("constraint_name", "table_name"),
        "table_name",
        "constraint_name",
        None,
    ),
    "create_foreign_key": (
        ("constraint_name", "source_table", "referent_table"),
        "source_table",
        "constraint_name",
        None,
    ),
    "create_check_constraint": (
        ("constraint_name", "table_name"),
        "table_name",
        "constraint_name",
        None,
    ),
    "create_exclude_constraint": (
        ("constraint_name", "table_name"),
        "table_name",
        "constraint_name",
        None,
    ),
    "drop_constraint": (("constraint_name", "table_name"), "table_name", "constraint_name", None),
    "create_table_comment": (("table_name",), "table_name", None, None),
    "drop_table_comment": (("table_name",), "table_name", None, None),
    "execute": (("sqltext",), None, None, None),
    "bulk_insert": (("table",), "table", None, None),
}
# Operations a ``batch_alter_table`` block offers; the block names their table.
_BATCH_OPERATIONS = frozenset(_OPERATIONS) - {
    "create_table",
    "drop_table",
    "rename_table",
    "bulk_insert",
}
# ``drop_index`` finds the index by its name; the table may be left out.
_TABLE_OPTIONAL = frozenset({"drop_index"})
# Helpers of ``op`` that compute an argument and change nothing themselves.
_ARGUMENT_HELPERS = frozenset({"f", "inline_literal"})
_CONNECTION_GETTERS = frozenset({"get_bind", "get_context"})
_TABLE_CONSTRUCTORS = frozenset({"table", "Table"})
_SIDE_EFFECT_FREE = frozenset({"print"})
_BLOCK_FIELDS = frozenset({"body", "orelse", "finalbody", "handlers", "cases"})
_NEW_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_SHOWN_SQL = 60

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True, slots=True)
class Touch:
    """One thing an upgrade does: the ``op`` call, its table, the object it names, its line.

    ``name`` is the column, index or constraint name (None for table-wide operations and
    unnamed constraints); ``new_name`` the name a rename gives; ``bind`` the database of a
    multidb file's ``upgrade_<bind>()`` ("" for the default one, None in a single-database
    file). A call that cannot be read has kind ``not_understood`` and says why in ``detail``.
    """

    kind: str
    table: str | None
    name: str | None
    line: int
    new_name: str | None = None
    bind: str | None = None
    detail: str = ""

    @property
    def opaque(self) -> bool:
        """True when the touch may change tables nobody can name: raw SQL or a call not read."""
        return self.kind in (NOT_UNDERSTOOD, "execute")

    def describe(self) -> str:
        """Short text: ``add_column user.email``, ``create_index ix_name on user``."""
        if self.kind == NOT_UNDERSTOOD:
            text = f"not understood: {self.detail}"
        elif self.kind == "execute":
            text = f"execute: {self.detail}"
        elif self.kind in COLUMN_KINDS:
            text = f"{self.kind} {self.table}.{self.name}"
        elif self.kind in ("create_table", "drop_table", "rename_table", "bulk_insert") or (
            self.kind.endswith("table_comment")
        ):
            text = f"{self.kind} {self.table}"
        else:
            named = self.name if self.name is not None else "(unnamed)"
            text = f"{self.kind} {named}" + (f" on {self.table}" if self.table else "")
        if self.new_name is not None:
            text += f" -> {self.new_name}"
        return text if self.bind is None else f"[{self.bind or 'default'}] {text}"


@dataclass(frozen=True, slots=True)
class RevisionBody:
    """What a revision file's functions do: the upgrade's touches, emptiness, a fingerprint.

    ``fingerprint`` identifies the upgrade and downgrade code (docstrings, comments, blank
    lines and indentation left out), so the same change written twice is recognised; None
    when empty.
    """

    path: str
    touches: tuple[Touch, ...] = ()
    empty: bool = False
    fingerprint: str | None = None
    error: str | None = None


def read_body(path: str) -> RevisionBody:
    """Read a revision file's functions; a file that cannot be read says why in ``error``."""
    try:
        with tokenize.open(path) as file:
            text = file.read()
    except (OSError, UnicodeDecodeError, SyntaxError) as error:
        return RevisionBody(path, error=f"cannot read the file: {error}")
    return parse_body(text, path)


def parse_body(text: str, path: str = "") -> RevisionBody:
    """Read what the upgrade and downgrade functions of a revision file's source do."""
    try:
        tree = ast.parse(text, filename=path or "<revision>")
    except (SyntaxError, ValueError) as error:
        line = getattr(error, "lineno", None)
        return RevisionBody(
            path, error=f"syntax error: {getattr(error, 'msg', error)} (line {line})"
        )
    functions: dict[str, Function] = {}
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[statement.name] = statement
    module_names = _LazyNames(functools.partial(_resolve_names, tree.body, tree.body, {}))
    upgrades = _migration_functions(functions, "upgrade")
    downgrades = _migration_functions(functions, "downgrade")
    touches: list[Touch] = []
    for bind, function in upgrades:
        touches.extend(_FunctionReader(function, bind, module_names).read())
    if not upgrades:
        touches.append(Touch(NOT_UNDERSTOOD, None, None, 1, detail="no upgrade() function"))
    functions_read = [function for _, function in (*upgrades, *downgrades)]
    empty = bool(functions_read) and all(_does_nothing(f.body) for f in functions_read)
    return RevisionBody(
        path=path,
        touches=tuple(touches),
        empty=empty,
        fingerprint=None if empty or not functions_read else _fingerprint(text, functions_read),
    )


def _migration_functions(
    functions: Mapping[str, Function], prefix: str
) -> list[tuple[str | None, Function]]:
    """``upgrade()`` of a single-database file, or each ``upgrade_<bind>()`` of a multidb one.

    A multidb file's ``upgrade(engine_name)`` only dispatches to the per-bind functions; its
    parameter tells it from a single-database ``upgrade()`` that calls helpers of its own.
    """
    main = functions.get(prefix)
    if main is None:
        return []
    if not main.args.args and not main.args.posonlyargs:
        return [(None, main)]
    marker = f"{prefix}_"
    return [
        (name[len(marker) :], function)
        for name, function in functions.items()
        if name.startswith(marker)
    ]


def _does_nothing(body: Sequence[ast.stmt]) -> bool:
    """True for a body of only ``pass``, ``...`` and a docstring."""
    return all(
        isinstance(statement, ast.Pass)
        or (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant))
        for statement in body
    )


def _fingerprint(text: str, functions: Iterable[Function]) -> str:
    """A digest of the functions' code lines, without docstrings, comments, blanks or indents.

    Text, not the syntax tree: dumping trees costs ten times more, and the same change
    written twice (two autogenerate runs) has the same lines.
    """
    lines = text.splitlines()
    digest = hashlib.blake2b(digest_size=16)
    for function in functions:
        body = function.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]
        digest.update(function.name.encode() + b"\0")
        if not body:
            continue
        for line in lines[body[0].lineno - 1 : function.end_lineno]:
            code = line.strip()
            if code and not code.startswith("#"):
                digest.update(code.encode() + b"\n")
    return digest.hexdigest()


class _NotLiteral(Exception):
    """An argument whose value cannot be known without running the file."""


# What a name is bound to: ("string", value) or ("table", table name).
_Bound = tuple[str, str]


def _resolve_names(
    scope_nodes: Sequence[ast.AST], assignments: Iterable[ast.AST], outer: Mapping[str, _Bound]
) -> dict[str, _Bound]:
    """Names of a scope bound exactly once, to a string literal or to a table object.

    A name bound anywhere in the scope hides the outer one (Python's rule); a name bound
    twice, or to anything else, is not known: its value would be a guess.
    """
    counts = _binding_counts(scope_nodes)
    names = {name: bound for name, bound in outer.items() if name not in counts}
    for node in assignments:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and counts[target.id] == 1:
            bound = _bound_value(value, names)
            if bound is not None:
                names[target.id] = bound
    return names


class _LazyNames(Mapping[str, _Bound]):
    """Names resolved on first use: most files never pass a name where a literal is read."""

    def __init__(self, resolve: Callable[[], dict[str, _Bound]]) -> None:
        self._resolve = resolve
        self._names: dict[str, _Bound] | None = None

    def _resolved(self) -> dict[str, _Bound]:
        if self._names is None:
            self._names = self._resolve()
        return self._names

    def __getitem__(self, name: str) -> _Bound:
        return self._resolved()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._resolved())

    def __len__(self) -> int:
        return len(self._resolved())


def _binding_counts(nodes: Iterable[ast.AST]) -> Counter[str]:
    """How often each name is bound under the nodes (assignments, loops, imports, defs...)."""
    counts: Counter[str] = Counter()
    for root in nodes:
        for node in ast.walk(root):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                counts[node.id] += 1
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                counts[node.name] += 1
            elif isinstance(node, ast.arg):
                counts[node.arg] += 1
            elif isinstance(node, ast.alias):
                counts[(node.asname or node.name).split(".")[0]] += 1
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                counts.update({name: 2 for name in node.names})
    return counts


def _own_scope(function: Function) -> Iterator[ast.AST]:
    """The nodes of a function's body, nested functions, classes and lambdas left out."""
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, _NEW_SCOPES):
            pending.extend(ast.iter_child_nodes(node))


def _bound_value(value: ast.expr, names: Mapping[str, _Bound]) -> _Bound | None:
    """What a name is bound to, when it is a string or a table; None otherwise."""
    try:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return ("string", value.value)
        if isinstance(value, ast.Call) and value.args:
            called = _called_name(value)
            if called in _TABLE_CONSTRUCTORS or called == "create_table":
                table = _string(value.args[0], names)
                return ("table", table) if table is not None else None
    except _NotLiteral:
        return None
    return None


def _string(node: ast.expr, names: Mapping[str, _Bound]) -> str | None:
    """A literal string (or None) argument; raises ``_NotLiteral`` for anything else."""
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, str)):
        return node.value
    if isinstance(node, ast.Name) and names.get(node.id, ("", ""))[0] == "string":
        return names[node.id][1]
    if (
        isinstance(node, ast.Call)
        and _called_name(node) in _ARGUMENT_HELPERS
        and len(node.args) == 1
        and not node.keywords
    ):
        return _string(node.args[0], names)
    raise _NotLiteral


def _table_object(node: ast.expr, names: Mapping[str, _Bound]) -> str:
    """The name of a table object argument (``sa.table("t", ...)`` or a name bound to one)."""
    if isinstance(node, ast.Name) and names.get(node.id, ("", ""))[0] == "table":
        return names[node.id][1]
    if isinstance(node, ast.Call) and _called_name(node) in _TABLE_CONSTRUCTORS and node.args:
        table = _string(node.args[0], names)
        if table is not None:
            return table
    raise _NotLiteral


def _column_name(node: ast.expr, names: Mapping[str, _Bound]) -> str | None:
    """The name of a column object argument: ``sa.Column("name", ...)``."""
    if isinstance(node, ast.Call) and _called_name(node) == "Column":
        named = next((keyword.value for keyword in node.keywords if keyword.arg == "name"), None)
        first = node.args[0] if node.args else named
        if first is not None and not isinstance(first, ast.Starred):
            return _string(first, names)
    raise _NotLiteral


def _called_name(call: ast.Call) -> str | None:
    """The last part of a called name: ``sa.Column`` -> ``Column``."""
    function = call.func
    if isinstance(function, ast.Attribute):
        return function.attr
    if isinstance(function, ast.Name):
        return function.id
    return None


def _dotted(node: ast.expr) -> str:
    """A called expression as text, for messages: ``op.add_column``, ``helper``."""
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Name):
        return node.id
    return "<expression>"


def _expressions(value: object) -> Iterator[ast.AST]:
    """The nodes of a statement field: one node, or each node of a list."""
    if isinstance(value, ast.AST):
        yield value
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, ast.AST):
                yield item


def _bind_arguments(call: ast.Call, parameters: tuple[str, ...]) -> dict[str, ast.expr]:
    """Match a call's arguments to the leading parameters; ``*args``/``**kw`` may hide them."""
    bound: dict[str, ast.expr] = {}
    for index, argument in enumerate(call.args):
        if isinstance(argument, ast.Starred):
            if index < len(parameters):
                raise _NotLiteral
            break
        if index < len(parameters):
            bound[parameters[index]] = argument
    for keyword in call.keywords:
        if keyword.arg is not None:
            bound[keyword.arg] = keyword.value
        elif any(parameter not in bound for parameter in parameters):
            raise _NotLiteral
    return bound


class _FunctionReader:
    """Reads one upgrade function: its ``op`` calls and its ``batch_alter_table`` blocks."""

    def __init__(
        self, function: Function, bind: str | None, module_names: Mapping[str, _Bound]
    ) -> None:
        self.function = function
        self.bind = bind
        self.names = _LazyNames(
            functools.partial(_resolve_names, [function], _own_scope(function), module_names)
        )
        self.found: list[tuple[int, int, Touch]] = []

    def read(self) -> list[Touch]:
        """Every touch of the function, in source order."""
        self._statements(self.function.body, {})
        self.found.sort(key=lambda item: (item[0], item[1]))
        return [touch for _, _, touch in self.found]

    def _statements(self, statements: Sequence[ast.AST], batches: dict[str, str | None]) -> None:
        """Walk statements (and except/case clauses); ``batches`` maps aliases to tables."""
        for statement in statements:
            if isinstance(statement, (ast.With, ast.AsyncWith)):
                inner = dict(batches)
                for item in statement.items:
                    alias = self._batch_alias(item)
                    if alias is None:
                        self._calls(item.context_expr, batches, discarded=False)
                    else:
                        inner[alias[0]] = alias[1]
                self._statements(statement.body, inner)
                continue
            for field_name, value in ast.iter_fields(statement):
                if field_name in _BLOCK_FIELDS:
                    self._statements(value, batches)
                    continue
                for node in _expressions(value):
                    discarded = isinstance(statement, ast.Expr) and field_name == "value"
                    self._calls(node, batches, discarded)

    def _batch_alias(self, item: ast.withitem) -> tuple[str, str | None] | None:
        """``with op.batch_alter_table("t") as batch_op``: the alias and its table."""
        call = item.context_expr
        if not (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "batch_alter_table"
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id == "op"
            and isinstance(item.optional_vars, ast.Name)
        ):
            return None
        try:
            table = self._table(call, _bind_arguments(call, ("table_name",)), "table_name")
        except _NotLiteral:
            table = None
        if table is None:
            self._not_understood(call, "op.batch_alter_table(): its table is an expression")
        return item.optional_vars.id, table

    def _calls(self, node: ast.AST, batches: dict[str, str | None], discarded: bool) -> None:
        """Read every call in an expression; a discarded call of an unknown function is noted."""
        for call in ast.walk(node):
            if not isinstance(call, ast.Call):
                continue
            function = call.func
            if isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name):
                receiver = function.value.id
                if receiver == "op" or receiver in batches:
                    self._operation(call, function.attr, receiver, batches)
                    continue
            if discarded and call is node and _called_name(call) not in _SIDE_EFFECT_FREE:
                self._not_understood(call, f"{_dotted(function)}(): unknown function")

    def _operation(
        self, call: ast.Call, kind: str, receiver: str, batches: dict[str, str | None]
    ) -> None:
        """Read one ``op.<kind>(...)`` or ``batch_op.<kind>(...)`` call."""
        if kind in _ARGUMENT_HELPERS:
            return
        in_batch = receiver != "op"
        label = f"{receiver}.{kind}()"
        if kind not in (_BATCH_OPERATIONS if in_batch else _OPERATIONS):
            why = "what it runs is not read" if kind in _CONNECTION_GETTERS else "unknown operation"
            self._not_understood(call, f"{label}: {why}")
            return
        if in_batch and batches[receiver] is None:
            self._not_understood(call, f"{label}: its batch table is an expression")
            return
        parameters, table_parameter, name_parameter, new_name_parameter = _OPERATIONS[kind]
        if in_batch:
            parameters = tuple(p for p in parameters if p != table_parameter)
        try:
            arguments = _bind_arguments(call, parameters)
            if in_batch:
                table = batches[receiver]
            elif table_parameter is None:
                table = None
            else:
                table = self._table(call, arguments, table_parameter, kind)
            missing = (name_parameter is not None and name_parameter not in arguments) or (
                table is None and table_parameter is not None and kind not in _TABLE_OPTIONAL
            )
            if missing:
                self._not_understood(call, f"{label}: a name it needs is not given")
                return
            name = None
            if name_parameter is not None:
                node = arguments[name_parameter]
                name = (
                    _column_name(node, self.names)
                    if kind == "add_column"
                    else (_string(node, self.names))
                )
            new_name = None
            if new_name_parameter is not None and new_name_parameter in arguments:
                new_name = _string(arguments[new_name_parameter], self.names)
        except _NotLiteral:
            self._not_understood(call, f"{label}: an argument it needs is an expression")
            return
        detail = self._sql(arguments.get("sqltext")) if kind == "execute" else ""
        self._add(call, Touch(kind, table, name, call.lineno, new_name, self.bind, detail))

    def _table(
        self, call: ast.Call, arguments: Mapping[str, ast.expr], parameter: str, kind: str = ""
    ) -> str | None:
        """The table a call names, schema-qualified when a literal schema is given."""
        node = arguments.get(parameter)
        if node is None:
            return None
        if kind == "bulk_insert":
            table: str | None = _table_object(node, self.names)
        else:
            table = _string(node, self.names)
        schema_keyword = "source_schema" if kind == "create_foreign_key" else "schema"
        schema_node = arguments.get(schema_keyword)
        schema = _string(schema_node, self.names) if schema_node is not None else None
        return f"{schema}.{table}" if schema and table else table

    def _sql(self, node: ast.expr | None) -> str:
        """The start of an ``execute`` statement's SQL, or a note that it is an expression."""
        if isinstance(node, ast.Call) and _called_name(node) == "text" and node.args:
            node = node.args[0]
        try:
            sql = _string(node, self.names) if node is not None else None
        except _NotLiteral:
            return "<expression>"
        text = " ".join((sql or "").split())
        return text if len(text) <= _SHOWN_SQL else text[: _SHOWN_SQL - 3] + "..."

    def _not_understood(self, call: ast.Call, detail: str) -> None:
        """Note a call that is not read, with the reason."""
        touch = Touch(NOT_UNDERSTOOD, None, None, call.lineno, bind=self.bind, detail=detail)
        self._add(call, touch)

    def _add(self, call: ast.Call, touch: Touch) -> None:
        self.found.append((call.lineno, call.col_offset, touch))


class BodyCache:
    """Revision bodies by path, each kept while its file's size, time and inode are unchanged.

    Reading every branch revision again on each keypress of the workbench would cost
    milliseconds per file; files changed in the last two seconds are re-read (git's racy rule).
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[tuple[int, int, int], RevisionBody]] = {}

    def get(self, path: str) -> RevisionBody:
        """The body of the file at ``path``, read again only when the file changed."""
        try:
            info = os.stat(path)
        except OSError as error:
            return RevisionBody(path, error=f"cannot read the file: {error.strerror}")
        key = (info.st_size, info.st_mtime_ns, info.st_ino)
        entry = self._entries.get(path)
        if entry is not None and entry[0] == key:
            return entry[1]
        body = read_body(path)
        if time.time_ns() - info.st_mtime_ns > RACY_WINDOW_NS:
            self._entries[path] = (key, body)
        return body
