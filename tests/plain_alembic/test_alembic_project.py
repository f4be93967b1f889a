"""A plain Alembic project as the workbench reads it: config found as ``alembic`` finds it,
databases learned by running env.py in a child that never connects, kept while unchanged."""

from __future__ import annotations

import argparse
import os
import stat

import pytest
from alembic.config import CommandLine

from workbench.errors import WorkbenchError
from workbench.project.alembic import (
    AlembicOptions,
    AlembicProject,
    cache_path,
    config_files,
    learn_project,
    probe_key,
)

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])
TEMPLATES_ON_BACKENDS = [
    *(("sqlite", template) for template in ("generic", "async", "pyproject", "pyproject_async")),
    ("postgresql", "generic"),
    ("postgresql", "pyproject_async"),
    ("mysql", "generic"),
    ("mysql", "pyproject"),
]
"""Every single-database template on SQLite; on each server, a sync and an async or toml one."""


@pytest.mark.parametrize(
    ("names", "environment"),
    [
        ((), None),
        ((), "other.ini"),
        ((), "conf/pyproject.toml"),
        (("custom.ini",), None),
        (("sub/pyproject.toml",), "other.ini"),
        (("a.ini", "pyproject.toml"), None),
    ],
)
def test_config_files_are_the_ones_alembic_reads(tmp_path, monkeypatch, names, environment):
    if environment is None:
        monkeypatch.delenv("ALEMBIC_CONFIG", raising=False)
    else:
        monkeypatch.setenv("ALEMBIC_CONFIG", environment)
    monkeypatch.chdir(tmp_path)
    alembic_toml, alembic_ini = CommandLine()._inis_from_config(
        argparse.Namespace(config=list(names) or None)
    )

    ours = config_files(AlembicOptions(config=names, cwd=str(tmp_path)))

    assert ours == (str(tmp_path / alembic_toml), str(tmp_path / alembic_ini))


def test_two_ini_files_are_refused_like_alembic_refuses_them(tmp_path):
    with pytest.raises(WorkbenchError, match="only one ini file may be indicated"):
        config_files(AlembicOptions(config=("a.ini", "b.ini"), cwd=str(tmp_path)))


def options_for(project) -> AlembicOptions:
    return AlembicOptions(cwd=str(project.path))


@pytest.mark.parametrize(("backend", "template"), TEMPLATES_ON_BACKENDS)
def test_each_template_names_its_database(make_alembic, template, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PROJECT_CACHE", "0")
    project = make_alembic(template)

    described = AlembicProject(options_for(project)).describe()

    assert described.directory == str(project.migrations)
    assert described.version_locations == (str(project.migrations / "versions"),)
    assert not described.multidb
    assert [(t.name, str(t.url), t.version_table) for t in described.targets] == [
        ("default", project.url, "alembic_version")
    ]


def test_the_multidb_template_names_every_engine(make_alembic, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PROJECT_CACHE", "0")
    project = make_alembic("multidb")

    described = AlembicProject(options_for(project)).describe()

    assert described.multidb
    assert {t.name: str(t.url) for t in described.targets} == project.urls


@SQLITE_ONLY
def test_a_url_from_a_settings_object_is_learned_from_env_py(make_alembic, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PROJECT_CACHE", "0")
    project = make_alembic(settings_app=True)
    for name, value in project.env.items():
        monkeypatch.setenv(name, value)

    described = AlembicProject(options_for(project)).describe()

    assert [str(t.url) for t in described.targets] == [project.url]
    assert "driver://" in (project.path / "alembic.ini").read_text()


@SQLITE_ONLY
def test_the_probe_never_connects(make_alembic, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PROJECT_CACHE", "0")
    project = make_alembic(settings_app=True)
    unreachable = "postgresql+psycopg://shop:s3cret-pw@127.0.0.1:9/shop"
    monkeypatch.setenv("SHOP_DATABASE_URL", unreachable)

    described = AlembicProject(options_for(project)).describe()

    (target,) = described.targets
    assert str(target.url) == unreachable
    assert "s3cret-pw" not in target.masked_url


@SQLITE_ONLY
def test_version_table_and_schema_come_from_env_py(make_alembic, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PROJECT_CACHE", "0")
    project = make_alembic()
    text = project.env_py.read_text().replace(
        "target_metadata=target_metadata",
        'target_metadata=target_metadata, version_table="shop_versions"',
    )
    project.env_py.write_text(text)

    (target,) = AlembicProject(options_for(project)).describe().targets

    assert target.version_table == "shop_versions"


@SQLITE_ONLY
def test_a_failing_env_py_is_one_line_without_its_password(make_alembic, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PROJECT_CACHE", "0")
    project = make_alembic()
    project.env_py.write_text(
        project.env_py.read_text()
        + '\nraise RuntimeError("cannot reach postgresql://shop:s3cret-pw@db/shop")\n'
    )

    with pytest.raises(WorkbenchError) as failure:
        AlembicProject(options_for(project)).describe()

    message = str(failure.value)
    assert "\n" not in message
    assert "RuntimeError: cannot reach" in message
    assert "s3cret-pw" not in message


@SQLITE_ONLY
def test_the_answer_is_kept_privately_until_a_file_it_read_changes(
    make_alembic, monkeypatch, tmp_path
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("WORKBENCH_PROJECT_CACHE", raising=False)
    project = make_alembic(settings_app=True)
    for name, value in project.env.items():
        monkeypatch.setenv(name, value)
    options = options_for(project)
    first = learn_project(options)
    kept = cache_path(probe_key(options, os.environ), os.environ)
    assert kept is not None and os.path.exists(kept)
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600

    settings = project.path / "shop" / "settings.py"
    settings.write_text(
        settings.read_text().replace(
            'os.environ["SHOP_DATABASE_URL"]', 'os.environ["SHOP_DATABASE_URL"] + "-copy"'
        )
    )
    second = learn_project(options)

    assert [str(t.url) for t in first.targets] == [project.url]
    assert [str(t.url) for t in second.targets] == [project.url + "-copy"]


@SQLITE_ONLY
def test_a_changed_environment_is_probed_again(make_alembic, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("WORKBENCH_PROJECT_CACHE", raising=False)
    project = make_alembic(settings_app=True)
    monkeypatch.setenv("SHOP_DATABASE_URL", project.url)
    first = learn_project(options_for(project))
    monkeypatch.setenv("SHOP_DATABASE_URL", "sqlite:///elsewhere.db")

    second = learn_project(options_for(project))

    assert [str(t.url) for t in first.targets] == [project.url]
    assert [str(t.url) for t in second.targets] == ["sqlite:///elsewhere.db"]


@SQLITE_ONLY
def test_a_timing_tools_per_run_variable_keeps_the_learned_answer(make_alembic):
    options = options_for(make_alembic())
    shell = {"SHOP_DATABASE_URL": "sqlite:///shop.db", "SHLVL": "1"}
    kept = probe_key(options, shell)

    timed = {**shell, "SHLVL": "2", "HYPERFINE_RANDOMIZED_ENVIRONMENT_OFFSET": "417"}
    assert probe_key(options, timed) == kept
    assert probe_key(options, {**shell, "SHOP_DATABASE_URL": "sqlite:///other.db"}) != kept


@SQLITE_ONLY
def test_url_option_reaches_env_py_as_sqlalchemy_url(make_alembic, monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_PROJECT_CACHE", "0")
    project = make_alembic()
    other = f"sqlite:///{tmp_path / 'other.db'}"

    described = AlembicProject(AlembicOptions(url=other, cwd=str(project.path))).describe()

    assert [str(t.url) for t in described.targets] == [other]
