"""`flask db squash`: the baseline builds the schema the old revisions built, on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from git_repos import commit_all, git_init
from revision_files import revision_source
from sqlalchemy.pool import NullPool

from workbench.services.squash import schema_snapshot

pytestmark = pytest.mark.flask_in_process

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])
SQLITE_AND_POSTGRES = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.servers)]
)


NO_MODELS = "from app import db\n"


def history(backend: str) -> list[tuple[str, str | None, str, str]]:
    """(revision, down_revision, upgrade, downgrade): tables, keys, indexes, checks, defaults.

    PostgreSQL adds an enum, a partial index and a standalone sequence; SQLite a partial
    index; MariaDB has no expression indexes.
    """
    enum_column = (
        "sa.Column('mood', sa.Enum('happy', 'sad', name='mood'), nullable=True),"
        if backend == "postgresql"
        else ""
    )
    expression_index = (
        "op.create_index('ix_users_lower_name', 'users', [sa.text('lower(name)')])"
        if backend != "mysql"
        else ""
    )
    postgres_only = (
        "op.create_index('ix_posts_recent', 'posts', ['user_id'],"
        " postgresql_where=sa.text('user_id > 10'))\n            "
        "op.execute('CREATE SEQUENCE invoice_numbers START WITH 1000 INCREMENT BY 5')"
        if backend == "postgresql"
        else "op.create_index('ix_posts_recent', 'posts', ['user_id'],"
        " sqlite_where=sa.text('user_id > 10'))"
        if backend == "sqlite"
        else ""
    )
    return [
        (
            "aaaa0001",
            None,
            f"""
            op.create_table(
                'users',
                sa.Column('id', sa.Integer(), nullable=False),
                sa.Column('name', sa.String(50), nullable=False, server_default='anon'),
                sa.Column('age', sa.Integer(), nullable=True),
                {enum_column}
                sa.PrimaryKeyConstraint('id', name='pk_users'),
                sa.UniqueConstraint('name', name='uq_users_name'),
                sa.CheckConstraint('age >= 0', name='ck_users_age'),
            )
            """,
            "op.drop_table('users')"
            + ("\nsa.Enum(name='mood').drop(op.get_bind())" if backend == "postgresql" else ""),
        ),
        (
            "bbbb0002",
            "aaaa0001",
            f"""
            op.create_table(
                'posts',
                sa.Column('id', sa.Integer(), nullable=False),
                sa.Column('user_id', sa.Integer(), nullable=True),
                sa.Column('title', sa.String(100), nullable=False, server_default='untitled'),
                sa.Column('created', sa.DateTime(), server_default=sa.func.now()),
                sa.PrimaryKeyConstraint('id', name='pk_posts'),
                sa.ForeignKeyConstraint(
                    ['user_id'], ['users.id'], name='fk_posts_user', ondelete='CASCADE'
                ),
            )
            op.create_index('ix_posts_title', 'posts', ['title'])
            {expression_index}
            """,
            "op.drop_table('posts')",
        ),
        (
            "cccc0003",
            "bbbb0002",
            f"""
            op.add_column('users', sa.Column('email', sa.String(120), server_default=''))
            op.execute("INSERT INTO users (name, age) VALUES ('admin', 40)")
            {postgres_only}
            """,
            "op.drop_column('users', 'email')"
            + ("\nop.execute('DROP SEQUENCE invoice_numbers')" if backend == "postgresql" else ""),
        ),
        (
            "dddd0004",
            "cccc0003",
            """
            op.create_table(
                'tags',
                sa.Column('id', sa.Integer(), primary_key=True),
                sa.Column('label', sa.String(30), nullable=False),
            )
            op.create_index('ix_tags_label', 'tags', ['label'], unique=True)
            """,
            "op.drop_table('tags')",
        ),
        (
            "eeee0005",
            "dddd0004",
            "op.add_column('posts', sa.Column('body', sa.Text(), nullable=True))",
            "op.drop_column('posts', 'body')",
        ),
    ]


def write_revision(
    folder: Path, revision: str, down_revision: str | None, upgrade: str, downgrade: str
) -> Path:
    path = folder / f"{revision}_step.py"
    path.write_text(
        revision_source(revision, down_revision, upgrade, downgrade, message=f"step {revision}")
    )
    return path


def make_squash_project(make_project, revisions, *, commit: bool = True, **options):
    """A project with a migrations folder holding ``revisions``, committed to git."""
    project = make_project(models=NO_MODELS, **options)
    project.db("init")
    versions = project.migrations / "versions"
    for revision in revisions:
        write_revision(versions, *revision)
    if commit:
        git_init(project.path)
        commit_all(project.path, "history")
    return project


def snapshot_of(url: str) -> dict:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        return dict(schema_snapshot(engine))
    finally:
        engine.dispose()


def with_url(project, url: str) -> dict[str, str]:
    """Environment that points the project's app at another database."""
    return {"SQUASH_TEST_URL": url}


def let_url_be_chosen(project) -> None:
    app = project.path / "app.py"
    source = app.read_text()
    line = f'app.config["SQLALCHEMY_DATABASE_URI"] = {project.database_url!r}'
    assert line in source
    app.write_text(
        "import os\n"
        + source.replace(
            line,
            'app.config["SQLALCHEMY_DATABASE_URI"] = '
            f'os.environ.get("SQUASH_TEST_URL") or {project.database_url!r}',
        )
    )


def test_the_baseline_builds_the_old_schema_and_databases_at_and_beyond_it_reach_head(
    make_project, scratch_databases, backend
):
    project = make_squash_project(make_project, history(backend), commit=False)
    let_url_be_chosen(project)
    git_init(project.path)
    commit_all(project.path, "history")
    beyond = scratch_databases.new()
    project.db("upgrade", "dddd0004")
    project.db("upgrade", env=with_url(project, beyond))
    old_path_schema = snapshot_of(beyond)
    versions = project.migrations / "versions"

    result = project.db("squash", "dddd0004", "-m", "baseline", "--yes")

    assert "Squash 4 revision(s) up to dddd0004" in result.stdout
    assert "Proof passed" in result.stdout, result.stdout
    assert "data: " in result.stdout and "cccc0003_step.py line" in result.stdout
    assert sorted(path.name for path in versions.glob("*.py")) == [
        "dddd0004_step.py",
        "eeee0005_step.py",
    ]
    baseline = (versions / "dddd0004_step.py").read_text()
    assert "down_revision = None" in baseline and "revision = 'dddd0004'" in baseline
    assert "Not carried by this baseline" in baseline

    project.db("upgrade")
    assert project.state().versions == {"eeee0005"}
    project.db("upgrade", env=with_url(project, beyond))
    assert snapshot_of(beyond) == old_path_schema

    project.db("downgrade", "base", env=with_url(project, beyond))
    assert snapshot_of(beyond) == {}
    project.db("upgrade", env=with_url(project, beyond))
    assert snapshot_of(beyond) == old_path_schema


@SQLITE_ONLY
def test_a_database_before_the_revision_refuses_with_the_files_unchanged(make_project, backend):
    project = make_squash_project(make_project, history(backend))
    project.db("upgrade", "bbbb0002")
    before = project.snapshot()

    result = project.db("squash", "dddd0004", "--yes", expect=1)

    assert "Refused: database default: stands at bbbb0002, before dddd0004" in result.stderr
    assert project.snapshot() == before


PG_FUNCTION_AND_TRIGGER = """
op.execute(
    "CREATE FUNCTION touch_users() RETURNS trigger LANGUAGE plpgsql"
    " AS $$ BEGIN NEW.age := coalesce(NEW.age, 0); RETURN NEW; END $$"
)
op.execute(
    "CREATE TRIGGER users_touch BEFORE INSERT ON users"
    " FOR EACH ROW EXECUTE FUNCTION touch_users()"
)
"""


def test_a_view_made_by_op_execute_is_named_as_not_carried(make_project, backend):
    view = 'op.execute("CREATE VIEW active_users AS SELECT id, name FROM users")'
    if backend == "postgresql":
        view += PG_FUNCTION_AND_TRIGGER
    revisions = [*history(backend)[:2], ("cccc0003", "bbbb0002", view, "pass")]
    project = make_squash_project(make_project, revisions)
    before = project.snapshot()

    result = project.db("squash", "cccc0003", "--dry-run")

    assert "view active_users: migrations/versions/cccc0003_step.py line 16" in result.stdout
    assert "Proof passed" in result.stdout
    assert "view active_users: made by the old revisions, missing through the baseline" in (
        result.stdout
    )
    if backend == "postgresql":
        assert "function touch_users: migrations/versions/cccc0003_step.py line 17" in (
            result.stdout
        )
        assert "trigger users_touch: migrations/versions/cccc0003_step.py line 21" in (
            result.stdout
        )
        assert "[default] trigger users_touch on users: made by the old revisions" in (
            result.stdout
        )
        assert "[default] function touch_users(): made by the old revisions" in result.stdout
    assert "Dry run: nothing was written." in result.stdout
    assert project.snapshot() == before


@SQLITE_ONLY
def test_uncommitted_changes_in_the_versions_folder_refuse_even_with_yes(make_project, backend):
    project = make_squash_project(make_project, history(backend))
    extra = project.migrations / "versions" / "eeee0005_step.py"
    extra.write_text(extra.read_text() + "\n# edited\n")
    before = project.snapshot()

    result = project.db("squash", "dddd0004", "--yes", expect=1)

    assert "uncommitted changes" in result.stderr and "eeee0005_step.py" in result.stderr
    assert project.snapshot() == before


@SQLITE_ONLY
def test_a_revision_that_is_not_below_every_head_refuses(make_project, backend):
    revisions = [*history(backend)[:3], ("ffff0006", "aaaa0001", "pass", "pass")]
    project = make_squash_project(make_project, revisions)
    before = project.snapshot()

    result = project.db("squash", "cccc0003", "--yes", expect=1)

    assert "cccc0003 is not an ancestor of head ffff0006" in result.stderr
    assert project.snapshot() == before


@SQLITE_ONLY
def test_without_yes_it_asks_and_no_writes_nothing(make_project, backend):
    project = make_squash_project(make_project, history(backend))
    before = project.snapshot()

    result = project.db("squash", "bbbb0002", input="n\n")

    assert "Proof passed" in result.stdout and "Nothing was written." in result.stdout
    assert project.snapshot() == before


MULTIDB_REVISION = '''\
"""{revision}

Revision ID: {revision}
Revises: {down_revision}
"""
from alembic import op
import sqlalchemy as sa

revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = None
depends_on = None


def upgrade(engine_name):
    globals()["upgrade_%s" % engine_name]()


def downgrade(engine_name):
    globals()["downgrade_%s" % engine_name]()


def upgrade_():
    {default_upgrade}


def downgrade_():
    {default_downgrade}


def upgrade_users():
    {users_upgrade}


def downgrade_users():
    {users_downgrade}
'''

MULTIDB_HISTORY = [
    (
        "aaaa0001",
        None,
        "op.create_table('posts', sa.Column('id', sa.Integer(), primary_key=True))",
        "op.drop_table('posts')",
        "op.create_table('accounts', sa.Column('id', sa.Integer(), primary_key=True))",
        "op.drop_table('accounts')",
    ),
    (
        "bbbb0002",
        "aaaa0001",
        "op.add_column('posts', sa.Column('title', sa.String(80), server_default='t'))",
        "op.drop_column('posts', 'title')",
        "op.create_index('ix_accounts_id', 'accounts', ['id'])",
        "op.drop_index('ix_accounts_id', 'accounts')",
    ),
    ("cccc0003", "bbbb0002", "pass", "pass", "pass", "pass"),
]


@SQLITE_ONLY
def test_a_multidb_baseline_has_one_pair_of_functions_per_database(make_project, backend):
    project = make_project(models=NO_MODELS, binds=["users"])
    project.db("init", "--multidb")
    versions = project.migrations / "versions"
    for rid, down, default_up, default_down, users_up, users_down in MULTIDB_HISTORY:
        (versions / f"{rid}_step.py").write_text(
            MULTIDB_REVISION.format(
                revision=rid,
                down_revision=down,
                default_upgrade=default_up,
                default_downgrade=default_down,
                users_upgrade=users_up,
                users_downgrade=users_down,
            )
        )
    git_init(project.path)
    commit_all(project.path, "history")
    project.db("upgrade")
    schemas = {name: snapshot_of(project.url(name)) for name in (None, "users")}

    result = project.db("squash", "bbbb0002", "--yes")

    assert "Proof passed (default, users)" in result.stdout
    baseline = (versions / "bbbb0002_step.py").read_text()
    assert "def upgrade_users():" in baseline and "'accounts'" in baseline
    project.db("downgrade", "base")
    assert {name: project.state(name).tables for name in (None, "users")} == {
        None: {"alembic_version"},
        "users": {"alembic_version"},
    }
    project.db("upgrade")
    assert {name: snapshot_of(project.url(name)) for name in (None, "users")} == schemas


@SQLITE_ONLY
def test_a_difference_the_plan_does_not_name_blocks_and_is_shown(make_project, backend):
    hidden_trigger = """
    statement = (
        "CREATE TRIGGER users_guard BEFORE DELETE ON users"
        " BEGIN SELECT RAISE(ABORT, 'no'); END"
    )
    op.execute(statement)
    """
    revisions = [*history(backend)[:1], ("bbbb0002", "aaaa0001", hidden_trigger, "pass")]
    project = make_squash_project(make_project, revisions)
    before = project.snapshot()

    result = project.db("squash", "bbbb0002", "--yes", expect=1)

    assert "Proof FAILED (default): 1 difference(s)" in result.stdout
    assert "[default] trigger users_guard: made by the old revisions, missing through" in (
        result.stdout
    )
    assert "nothing was written" in result.stderr
    assert project.snapshot() == before
