"""Doctor and linearize on odd ids and messages: quoted fixes, one-line titles, safe writes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from branch_histories import database, load_graph, write_revision

from workbench.core.doctor import describe_problems, diagnose, examine

CREATE = "op.create_table('user', sa.Column('id', sa.Integer()))"


def test_fix_commands_quote_ids_with_quotes_spaces_and_dollars(tmp_path: Path) -> None:
    write_revision(tmp_path, "a'1", None, CREATE)
    write_revision(tmp_path, "b $HOME", "a'1", "op.add_column('user', sa.Column('x', sa.Text()))")
    write_revision(tmp_path, 'c"3', "b $HOME", message="nothing yet")
    graph = load_graph(tmp_path)
    statuses = [database(graph, "default", ["a'1", "b $HOME"])]

    problems = {problem.kind: problem for problem in examine(graph, statuses, command="flask db")}

    stale = problems["stale_rows"].fix_command
    assert stale == "flask db stamp --purge 'b $HOME'"
    edit = problems["empty_revision"].fix_command
    assert edit == "flask db edit 'c\"3'"
    assert shlex.split(stale)[-1] == "b $HOME" and shlex.split(edit)[-1] == 'c"3'
    assert f"  fix: {stale}\n" in describe_problems(list(problems.values()))


def test_linearize_alternatives_are_quoted(tmp_path: Path) -> None:
    write_revision(tmp_path, "a1", None, CREATE)
    write_revision(tmp_path, "b'2", "a1", "op.add_column('user', sa.Column('x', sa.Text()))")
    write_revision(tmp_path, "c 3", "a1", "op.add_column('user', sa.Column('y', sa.Text()))")
    graph = load_graph(tmp_path)

    (heads,) = [
        p
        for p in diagnose(graph, [database(graph, "default", ["a1"])], command="flask db")
        if p.other_fixes
    ]

    for fix in heads.other_fixes:
        words = shlex.split(fix)
        assert words[:3] == ["flask", "db", "linearize"]
        assert {words[3], words[5]} == {"b'2", "c 3"} and words[4] == "--onto"


def test_linearize_refuses_to_write_an_unsafe_id_into_a_file(tmp_path: Path) -> None:
    from workbench.core.linearize import LinearizeRefused, plan_linearize

    write_revision(tmp_path, "a1", None, CREATE)
    write_revision(tmp_path, "b2", "a1", "op.add_column('user', sa.Column('x', sa.Text()))")
    write_revision(tmp_path, 'c"3', "a1", "op.add_column('user', sa.Column('y', sa.Text()))")
    graph = load_graph(tmp_path)
    statuses = [database(graph, "default", ["a1"])]

    with pytest.raises(LinearizeRefused, match=re.escape("revision id 'c\"3' contains '\"'")):
        plan_linearize(graph, "b2", 'c"3', statuses)
    assert plan_linearize(graph, 'c"3', "b2", statuses).check.onto == "b2"


def test_a_message_with_line_breaks_stays_on_its_line_in_the_doctor_report(tmp_path: Path) -> None:
    write_revision(tmp_path, "a1", None, CREATE)
    path = write_revision(tmp_path, "b2", "a1", message="nothing")
    path.write_text(path.read_text().replace('"""nothing', '"""nothing\\nyet \\x1b[2J', 1))
    graph = load_graph(tmp_path)
    assert graph.revisions["b2"].message == "nothing\nyet \x1b[2J"

    report = describe_problems(
        examine(graph, [database(graph, "default", ["a1"])], command="flask db")
    )

    assert "warning: b2 (nothing␤yet \\x1b[2J) changes nothing" in report
    assert "\x1b" not in report
