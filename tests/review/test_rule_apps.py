"""Review rules end to end: per rule, an app whose model change raises it and one that must not.

Each case is a Flask project whose "before" models are migrated and upgraded (rows inserted),
then replaced by the "after" models; ``flask db review --json`` must report exactly the
expected (rule, severity) pairs and exit as the worst of them says. Generic rules run on
SQLite; dialect rules on the server they are about.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from review_projects import start_project

pytestmark = pytest.mark.flask_in_process

# --- models --------------------------------------------------------------------------------

ID = "id = db.Column(db.Integer, primary_key=True)"
NAME = "name = db.Column(db.String(64))"


def model(name: str, *columns: str, table_args: str | None = None) -> str:
    """A model class with an integer primary key and the given column lines."""
    lines = [ID, *columns]
    if table_args is not None:
        lines.append(f"__table_args__ = ({table_args},)")
    body = "".join(f"    {line}\n" for line in lines)
    return f"class {name}(db.Model):\n{body}"


def models(*classes: str) -> str:
    """A models.py source holding the given classes (none: the models module emptied)."""
    return "from app import db\n\n\n" + "\n\n".join(classes)


USER = model("User", NAME)
POST = model("Post", "title = db.Column(db.String(200))")
TAG = model("Tag", "label = db.Column(db.String(32))")
POST_OF_USER = model(
    "Post",
    "user_id = db.Column(db.Integer, db.ForeignKey('user.id', ondelete='CASCADE'))",
)
POST_WITH_USER_ID = model("Post", "user_id = db.Column(db.Integer)")
POST_WITH_FK = model("Post", "user_id = db.Column(db.Integer, db.ForeignKey('user.id'))")
MOOD = "mood = db.Column(db.Enum('happy', 'sad', name='mood'))"
NULLABLE_AGE = "age = db.Column(db.Integer)"

USER_ROW = {"user": {"name": "ada"}}


# --- cases ---------------------------------------------------------------------------------

Pair = tuple[str, str]


@dataclass(frozen=True)
class RuleApp:
    """A model change and what the review must say about it.

    ``severity`` None means ``rule`` must NOT fire; ``others`` are the other findings the
    change rightly raises, so the review's (rule, severity) pairs are checked exactly.
    """

    id: str
    rule: str
    severity: str | None
    before: str
    after: str
    backend: str = "sqlite"
    others: frozenset[Pair] = frozenset()
    rows: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: USER_ROW)
    migrate_kwargs: Mapping[str, Any] = field(default_factory=dict)
    xfail: str | None = None

    @property
    def expected(self) -> set[Pair]:
        """Every (rule, severity) pair the review must report."""
        fired = {(self.rule, self.severity)} if self.severity is not None else set()
        return fired | set(self.others)


def fires(rule: str, severity: str, before: str, after: str, **options: Any) -> RuleApp:
    """A case where ``rule`` must fire with ``severity``."""
    detail = options.pop("detail", "")
    backend = options.get("backend", "sqlite")
    case_id = f"{rule}-fires-{backend}" + (f"-{detail}" if detail else "")
    return RuleApp(case_id, rule, severity, before, after, **options)


def silent(rule: str, detail: str, before: str, after: str, **options: Any) -> RuleApp:
    """The counterpart case: a close model change that must NOT raise ``rule``."""
    backend = options.get("backend", "sqlite")
    return RuleApp(f"{rule}-silent-{backend}-{detail}", rule, None, before, after, **options)


def found(*pairs: Pair) -> frozenset[Pair]:
    """The other findings a case expects."""
    return frozenset(pairs)


UNIQUE_NAME = "name = db.Column(db.String(64), unique=True)"
NAMED_UNIQUE = "db.UniqueConstraint('name', name='uq_user_name')"
COLLATED_INDEX = model(
    "User", NAME, table_args="db.Index('ix_user_lower', db.func.lower(name).collate('C'))"
)

CASES: list[RuleApp] = [
    # A plain nullable add_column is no danger at all: the no-false-alarm baseline.
    silent(
        "drop-column",
        "nullable-column-added",
        models(USER),
        models(model("User", NAME, NULLABLE_AGE)),
    ),
    fires("drop-column", "warn", models(USER), models(model("User"))),
    fires(
        "probable-column-rename",
        "block",
        models(USER),
        models(model("User", "full_name = db.Column(db.String(64))")),
    ),
    silent(
        "probable-column-rename",
        "dropped-and-other-type-added",
        models(USER),
        models(model("User", NULLABLE_AGE)),
        others=found(("drop-column", "warn")),
    ),
    fires(
        "probable-table-rename",
        "block",
        models(USER, POST),
        models(USER, POST.replace("class Post", "class Article")),
        rows={**USER_ROW, "post": {"title": "hello"}},
    ),
    silent(
        "probable-table-rename",
        "dropped-and-unrelated-created",
        models(USER, POST),
        models(USER, TAG),
        rows={**USER_ROW, "post": {"title": "hello"}},
        others=found(("drop-table", "warn")),
    ),
    fires(
        "drop-table",
        "warn",
        models(USER, POST),
        models(USER),
        rows={**USER_ROW, "post": {"title": "hello"}},
    ),
    silent("drop-table", "table-created", models(USER), models(USER, POST)),
    fires(
        "many-tables-dropped",
        "block",
        models(USER, POST, TAG),
        models(),
        rows={**USER_ROW, "post": {"title": "hello"}, "tag": {"label": "news"}},
    ),
    silent(
        "many-tables-dropped",
        "two-tables-dropped",
        models(USER, POST, TAG),
        models(USER),
        rows={**USER_ROW, "post": {"title": "hello"}, "tag": {"label": "news"}},
        others=found(("drop-table", "warn")),
    ),
    fires(
        "add-not-null-column",
        "block",
        models(USER),
        models(model("User", NAME, "age = db.Column(db.Integer, nullable=False)")),
    ),
    silent(
        "add-not-null-column",
        "server-default",
        models(USER),
        models(
            model("User", NAME, "age = db.Column(db.Integer, nullable=False, server_default='0')")
        ),
    ),
    fires(
        "set-not-null",
        "warn",
        models(USER),
        models(model("User", "name = db.Column(db.String(64), nullable=False)")),
    ),
    silent(
        "set-not-null",
        "null-allowed",
        models(model("User", "name = db.Column(db.String(64), nullable=False)")),
        models(USER),
    ),
    fires(
        "narrowing-type-change",
        "info",
        models(USER),
        models(model("User", "name = db.Column(db.String(16))")),
    ),
    fires(
        "narrowing-type-change",
        "warn",
        models(USER),
        models(model("User", "name = db.Column(db.String(16))")),
        backend="postgresql",
    ),
    silent(
        "narrowing-type-change",
        "widened",
        models(USER),
        models(model("User", "name = db.Column(db.String(128))")),
    ),
    fires(
        "cross-type-change",
        "block",
        models(USER),
        models(model("User", "name = db.Column(db.Integer)")),
    ),
    silent(
        "cross-type-change",
        "integer-to-roomy-string",
        models(model("User", NULLABLE_AGE)),
        models(model("User", "age = db.Column(db.String(64))")),
        rows={"user": {"age": 36}},
    ),
    fires(
        "unique-on-existing-table",
        "warn",
        models(USER),
        models(model("User", UNIQUE_NAME)),
        others=found(("unnamed-constraint", "warn")),
    ),
    silent(
        "unique-on-existing-table",
        "unique-column-added",
        models(USER),
        models(model("User", NAME, "code = db.Column(db.String(8), unique=True)")),
        others=found(("unnamed-constraint", "warn")),
    ),
    fires(
        "unnamed-constraint",
        "warn",
        models(USER),
        models(model("User", NAME, "code = db.Column(db.String(8), unique=True)")),
        detail="unique",
    ),
    silent(
        "unnamed-constraint",
        "named-unique",
        models(USER),
        models(model("User", NAME, table_args=NAMED_UNIQUE)),
        others=found(("unique-on-existing-table", "warn")),
    ),
    fires(
        "sqlite-alter-outside-batch",
        "block",
        models(USER),
        models(model("User", "name = db.Column(db.String(64), nullable=False)")),
        migrate_kwargs={"render_as_batch": False},
        others=found(("set-not-null", "warn")),
    ),
    silent(
        "sqlite-alter-outside-batch",
        "batch",
        models(USER),
        models(model("User", "name = db.Column(db.String(64), nullable=False)")),
        others=found(("set-not-null", "warn")),
    ),
    fires(
        "sqlite-batch-cascade",
        "warn",
        models(USER, POST_OF_USER),
        models(model("User", "name = db.Column(db.String(64), nullable=False)"), POST_OF_USER),
        rows={**USER_ROW, "post": {"user_id": 1}},
        others=found(("set-not-null", "warn")),
    ),
    silent(
        "sqlite-batch-cascade",
        "column-added-in-place",
        models(USER, POST_OF_USER),
        models(model("User", NAME, NULLABLE_AGE), POST_OF_USER),
        rows={**USER_ROW, "post": {"user_id": 1}},
    ),
    fires(
        "index-noise",
        "info",
        models(COLLATED_INDEX),
        models(COLLATED_INDEX),
        backend="postgresql",
        others=found(("index-not-concurrent", "warn")),
    ),
    silent(
        "index-noise",
        "index-columns-changed",
        models(model("User", NAME, NULLABLE_AGE, table_args="db.Index('ix_user_name', name)")),
        models(model("User", NAME, NULLABLE_AGE, table_args="db.Index('ix_user_name', name, age)")),
    ),
    # PostgreSQL
    fires(
        "index-not-concurrent",
        "warn",
        models(USER),
        models(model("User", "name = db.Column(db.String(64), index=True)")),
        backend="postgresql",
    ),
    silent(
        "index-not-concurrent",
        "new-table",
        models(USER),
        models(USER, model("Tag", "label = db.Column(db.String(32), index=True)")),
        backend="postgresql",
    ),
    fires(
        "constraint-not-valid",
        "warn",
        models(USER, POST_WITH_USER_ID),
        models(USER, POST_WITH_FK),
        rows={**USER_ROW, "post": {"user_id": 1}},
        backend="postgresql",
        others=found(("unnamed-constraint", "warn")),
    ),
    silent(
        "constraint-not-valid",
        "new-table",
        models(USER),
        models(USER, POST_WITH_FK),
        backend="postgresql",
    ),
    fires(
        "postgresql-enum-change",
        "warn",
        models(USER),
        models(model("User", NAME, MOOD)),
        backend="postgresql",
        detail="column-added",
    ),
    fires(
        "postgresql-enum-change",
        "warn",
        models(model("User", MOOD)),
        models(model("User", MOOD.replace("'sad', name='mood'", "'sad', 'calm', name='feeling'"))),
        rows={"user": {"mood": "happy"}},
        backend="postgresql",
        detail="type-changed",
    ),
    silent(
        "postgresql-enum-change",
        "new-table",
        models(USER),
        models(USER, model("Tag", MOOD)),
        backend="postgresql",
    ),
    fires(
        "volatile-default",
        "warn",
        models(USER),
        models(
            model(
                "User",
                NAME,
                "token = db.Column(db.Uuid, server_default=db.text('gen_random_uuid()'))",
            )
        ),
        backend="postgresql",
    ),
    silent(
        "volatile-default",
        "constant-default",
        models(USER),
        models(model("User", NAME, "score = db.Column(db.Integer, server_default='0')")),
        backend="postgresql",
    ),
    # MariaDB
    fires(
        "volatile-default",
        "warn",
        models(USER),
        models(
            model(
                "User", NAME, "token = db.Column(db.String(36), server_default=db.text('(uuid())'))"
            )
        ),
        backend="mysql",
    ),
    silent(
        "volatile-default",
        "constant-default",
        models(USER),
        models(model("User", NAME, "score = db.Column(db.Integer, server_default='0')")),
        backend="mysql",
    ),
    # Autogenerate always passes existing_type/existing_nullable: the rule is for hand-written
    # scripts, and must stay silent on what `migrate` writes.
    silent(
        "mysql-alter-missing-existing",
        "autogenerated-alter",
        models(USER),
        models(model("User", "name = db.Column(db.String(64), nullable=False)")),
        backend="mysql",
        others=found(("set-not-null", "warn")),
    ),
]


def _param(case: RuleApp) -> Any:
    marks: list[Any] = []
    if case.backend != "sqlite":
        marks.append(pytest.mark.servers)
    if case.xfail:
        marks.append(pytest.mark.xfail(reason=case.xfail, strict=True))
    return pytest.param(case.backend, case, id=case.id, marks=marks)


def insert_rows(project: Any, rows: Mapping[str, Mapping[str, Any]]) -> None:
    """Insert one row per table, the tables reflected (quoting "user" on every backend)."""
    with project.connect() as connection:
        metadata = sa.MetaData()
        for table, values in rows.items():
            reflected = sa.Table(table, metadata, autoload_with=connection)
            connection.execute(reflected.insert().values(**values))


@pytest.mark.parametrize(("backend", "case"), [_param(case) for case in CASES])
def test_review_of_a_model_change(make_project: Any, backend: str, case: RuleApp) -> None:
    assert case.severity is not None or case.rule not in {rule for rule, _ in case.others}
    project = make_project(models=case.before, migrate_kwargs=case.migrate_kwargs)
    start_project(project)
    insert_rows(project, case.rows)
    project.write_models(case.after)

    result = project.db("review", "--json", expect=None)

    document = json.loads(result.stdout)
    reported = {(finding["rule"], finding["severity"]) for finding in document["findings"]}
    assert reported == case.expected, json.dumps(document["findings"], indent=2)
    if case.backend == "mysql":  # the servers here are MariaDB: the messages name it
        assert not any("MySQL" in finding["message"] for finding in document["findings"])
    severities = {severity for _, severity in reported}
    assert result.returncode == (1 if "block" in severities else 0)
    if "warn" in severities and "block" not in severities:
        project.db("review", "--json", "--strict", expect=1)
