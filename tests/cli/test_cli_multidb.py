"""Several databases (the default one and a ``users`` bind), migrated together, on every backend."""

from __future__ import annotations

import pytest
from sample_models import MULTIDB_MODELS, TAG_MODEL

pytestmark = pytest.mark.flask_in_process


def test_multidb_lifecycle(make_project):
    project = make_project(binds=["users"], models=MULTIDB_MODELS)

    project.db("init", "--multidb")
    template = (project.migrations / "script.py.mako").read_text()
    assert "upgrade_" in template

    project.db("migrate", "-m", "initial", "--rev-id", "aaaa0001")
    script = (project.migrations / "versions" / "aaaa0001_initial.py").read_text()
    default_part = script[script.index("def upgrade_():") : script.index("def downgrade_():")]
    users_part = script[
        script.index("def upgrade_users():") : script.index("def downgrade_users():")
    ]
    assert "op.create_table('post'" in default_part
    assert "op.create_table('user'" in users_part

    project.db("upgrade")
    default, users = project.state(), project.state("users")
    assert "post" in default.tables
    assert "user" not in default.tables
    assert "user" in users.tables
    assert "post" not in users.tables
    assert default.versions == users.versions == {"aaaa0001"}
    project.db("check")

    current = project.db("current").stdout
    assert current.count("aaaa0001 (head)") == 2

    project.add_model(TAG_MODEL)
    pending = project.db("check", expect=1)
    assert "New upgrade operations detected" in pending.stderr
    project.db("migrate", "-m", "add tag", "--rev-id", "bbbb0002")
    script = (project.migrations / "versions" / "bbbb0002_add_tag.py").read_text()
    users_part = script[
        script.index("def upgrade_users():") : script.index("def downgrade_users():")
    ]
    assert "op.create_table('tag'" in users_part

    project.db("upgrade")
    assert "tag" in project.state("users").tables
    assert project.state().versions == project.state("users").versions == {"bbbb0002"}

    project.db("downgrade")
    assert "tag" not in project.state("users").tables
    assert project.state().versions == project.state("users").versions == {"aaaa0001"}

    project.db("stamp", "base")
    assert project.state().versions == project.state("users").versions == frozenset()
    assert "post" in project.state().tables
    project.db("stamp", "aaaa0001")
    assert project.state().versions == project.state("users").versions == {"aaaa0001"}

    project.db("downgrade", "base")
    default, users = project.state(), project.state("users")
    assert default.tables == users.tables == {"alembic_version"}
    assert default.versions == users.versions == frozenset()
