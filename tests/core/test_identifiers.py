"""The rules for typed values: which ids and labels are safe, and messages in any template."""

from __future__ import annotations

import ast
import re

import pytest
from alembic.script.revision import Revision, RevisionError
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.core.identifiers import (
    LINE_BREAK_MARK,
    UnsafeValue,
    branch_label_problem,
    check_new_revision,
    docstring_text,
    one_line,
    revision_id_problem,
)

REAL_IDS = ["0001_initial", "kilo", "ae1027a6acf", "3f2d1e0c9b8a", "1.0", "v2.release_1", "x" * 32]
ALEMBIC_SLUG = re.compile(r"\w+")  # how Alembic makes a file name from a message


@pytest.mark.parametrize("value", REAL_IDS)
def test_ids_real_histories_use_are_accepted(value):
    assert revision_id_problem(value) is None
    assert branch_label_problem(value) is None
    Revision.verify_rev_id(value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "the revision id is empty"),
        ("../../evil", "revision id '../../evil' contains '/'"),
        ("/tmp/evil", "contains '/'"),
        ("..\\evil", "contains '\\\\'"),
        ("quo'te", 'contains "\'"'),
        ('dou"ble', "contains '\"'"),
        ("with space", "contains ' '"),
        ("tab\there", "contains '\\t'"),
        ("nul\x00", "contains '\\x00'"),
        ("a@b", "contains '@'"),
        ("a-b", "contains '-'"),
        ("a+b", "contains '+'"),
        ("a:b", "contains ':'"),
        ("a,b", "contains ','"),
        ("ünï", "contains 'ï' 'ü'"),
        (".hidden", "has a '.' first, last or twice in a row"),
        ("a..b", "has a '.' first, last or twice in a row"),
        ("trailing.", "has a '.' first, last or twice in a row"),
        ("head", "is one of Alembic's symbols (base, current, head, heads)"),
        ("base", "is one of Alembic's symbols"),
        ("x" * 33, "has 33 characters; Alembic's version table holds at most 32"),
    ],
)
def test_unsafe_ids_are_refused_with_the_reason(value, reason):
    problem = revision_id_problem(value)
    assert problem is not None and reason in problem
    assert "\n" not in problem


def test_every_id_alembic_refuses_we_refuse_too():
    refused_by_alembic = []
    for char in map(chr, range(32, 127)):
        try:
            Revision.verify_rev_id(f"a{char}b")
        except RevisionError:
            refused_by_alembic.append(char)
    # which characters Alembic refuses depends on its version; '@' always
    assert "@" in refused_by_alembic
    for char in refused_by_alembic:
        assert revision_id_problem(f"a{char}b") is not None, char
    for char in "@-+:":
        assert revision_id_problem(f"a{char}b") is not None, char


def test_a_long_existing_id_can_be_written_where_length_is_not_ours_to_judge():
    assert revision_id_problem("x" * 40, max_length=None) is None
    assert revision_id_problem("quo'te", max_length=None) is not None


def test_new_revision_refuses_existing_ids_and_labels():
    existing = {"aaaa0001": "versions/aaaa0001_first.py"}
    labels = {"side": "bbbb0002"}
    check_new_revision("cccc0003", "other", existing, labels)
    check_new_revision(None, None, existing, labels)
    for rev_id, label, reason in [
        ("aaaa0001", None, "revision aaaa0001 already exists (versions/aaaa0001_first.py)"),
        (None, "side", "branch label 'side' is already used by bbbb0002"),
        (None, "aaaa0001", "branch label 'aaaa0001' is the id of an existing revision"),
        ("a/b", None, "contains '/'"),
        (None, "a@b", "branch label 'a@b' contains '@'"),
    ]:
        with pytest.raises(UnsafeValue, match=re.escape(reason)) as raised:
            check_new_revision(rev_id, label, existing, labels)
        assert str(raised.value).endswith("; nothing written")


TEMPLATES = [
    ('"""{}\n\nRevision ID: x\n"""', "\n\nRevision ID: x\n"),
    ('"""{}"""', ""),
    ("'''{}'''", ""),
]

HOSTILE = [
    'triple """ quotes',
    "'''",
    '"',
    "'",
    '""',
    "\\",
    "ends with \\",
    '\\"""',
    "line\nbreak",
    "\r\n",
    "nul \x00",
    "\x1b[31m",
    "\u2028\u2029\x85",
    "ünïcödé ✓ 日本語 🎉",
    "\udcff lone surrogate",
    "${message} %(slug)s {x}",
]


def evaluated_docstring(template: str, message: str) -> str:
    module = ast.parse(template.format(docstring_text(message)))
    return ast.literal_eval(module.body[0].value)


@pytest.mark.parametrize("message", HOSTILE)
def test_hostile_messages_read_back_unchanged_from_every_docstring_form(message):
    for template, tail in TEMPLATES[:3]:
        assert evaluated_docstring(template, message) == message + tail


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=30))
def test_any_text_reads_back_unchanged_and_on_one_source_line(message):
    written = docstring_text(message)
    assert "\n" not in written and "\r" not in written and "\x00" not in written
    written.encode("utf-8")
    for template, tail in TEMPLATES[:3]:
        assert evaluated_docstring(template, message) == message + tail
    comment = ast.parse(f"# {written}\nvalue = 1\n")
    assert len(comment.body) == 1


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Zl", "Zp"))))
def test_printable_messages_keep_their_file_name(message):
    assert ALEMBIC_SLUG.findall(docstring_text(message)) == ALEMBIC_SLUG.findall(message)


def test_characters_the_file_encoding_cannot_hold_are_escaped():
    written = docstring_text("café 日本", "latin-1")
    assert written == "café \\u65e5\\u672c"
    written.encode("latin-1")
    assert evaluated_docstring('"""{}"""', "café 日本") == "café 日本"


def test_readable_messages_stay_as_typed_in_the_file():
    assert docstring_text('add "users" table, don\'t index') == 'add "users" table, don\'t index'
    assert docstring_text("ünïcödé ✓") == "ünïcödé ✓"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain message", "plain message"),
        ("first\nsecond", f"first{LINE_BREAK_MARK}second"),
        ("a\r\nb\rc\u2028d", f"a{LINE_BREAK_MARK}b{LINE_BREAK_MARK}c{LINE_BREAK_MARK}d"),
        ("nul\x00 esc\x1b[31m tab\t", "nul\\x00 esc\\x1b[31m tab\\t"),
        ("bidi \u202e txt", "bidi \\u202e txt"),
        ("ünïcödé 日本 🎉", "ünïcödé 日本 🎉"),
    ],
)
def test_one_line_shows_control_characters_safely(text, shown):
    assert one_line(text) == shown


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_one_line_never_breaks_a_line(text):
    shown = one_line(text)
    assert len(shown.splitlines()) <= 1
    assert not any(char in shown for char in "\x00\x1b\r\n\x7f")
