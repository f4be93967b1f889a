"""The scan's compile verdict skips a proven opening, and never calls fine what Python refuses.

``_source_error`` compiles only what follows the opening lines that ``_proven_opening`` matches;
these tests hold that the opening it proves always compiles on its own, and that the verdict
is always the one of compiling the whole file, on generated near-miss sources.
"""

from __future__ import annotations

import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core import scan

GENERATED_OPENING = '''\
"""add c_000154 to t_000041

Revision ID: 04a3b26c76d1
Revises: 16295d5fe54c
Create Date: 2030-06-16 23:57:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '04a3b26c76d1'
down_revision: Union[str, Sequence[str], None] = '16295d5fe54c'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None
'''

BODY = '''

def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('t_000041', sa.Column('c_000154', sa.Text(), nullable=True))
'''

# Pieces of near-Python: the proof's grammar, its neighbours, and what Python refuses.
FRAGMENTS = [
    "import", "from", "as", " ", " ", "\t", "\n", "\n", ".", ",", ",", "(", ")", "[", "]",
    "|", ":", "=", "==", "#c", "# x\n", "'s'", '"s"', "''", '""', '"""d"""', "'''d'''",
    '"""a"b"""', '"""', "'", '"', "None", "True", "False", "if", "as", "import", "__debug__",
    "a", "b_1", "sa", "revision", "Union", "str", "x.y", "é", "\u00a0", "\x0c", "\\", "\\\n",
    "*", "1", "b'x'", "f'x'", "r'x'", "u'x'", "b'é'", "...", "global a", "nonlocal a",
    "return", "yield", "from __future__ import annotations", "\ufeff", "\r", "\0", "def f():",
    "    pass", "  ", "lambda", "match", "_", "print(", "a.", ".a",
]  # fmt: skip

LINES = [
    "import a\n", "import a.b as c, d\n", "from . import a\n", "from ..a import (b,\n c,)\n",
    "from a import b as c\n", "x = 'y'\n", "x: int = None\n", "x: A[B, C[D], None] = ('a',)\n",
    "x: A | None = ['a', 'b']\n", '"""doc"""\n', "# comment\n", "\n", "   \n",
    "a = (\n  'x', # c\n  'y'\n)\n",
]  # fmt: skip


def whole_error(source: str) -> bool:
    """True when Python refuses to compile the source."""
    return scan.compile_error(source.encode("utf-8", "surrogatepass"), "f.py") is not None


def opening_compiles(text: str) -> None:
    """The proven opening of ``text`` compiles on its own, whatever follows it."""
    end = scan._proven_opening().match(text).end()
    assert end == 0 or text[end - 1] == "\n"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compile(text[:end], "opening.py", "exec", dont_inherit=True)


def verdicts_agree(text: str) -> None:
    """The split verdict is the whole file's: an error exactly where compiling the whole fails."""
    data = text.encode("utf-8", "surrogatepass")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        split = scan._source_error(data, text, "f.py")
        whole = scan.compile_error(data, "f.py")
    assert split == whole


sources = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.sampled_from(LINES)), max_size=30).map(
    "".join
)


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(sources)
def test_a_proven_opening_always_compiles(text: str) -> None:
    opening_compiles(text)


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(LINES), max_size=8).map("".join), sources)
def test_the_split_verdict_is_the_whole_files(opening: str, rest: str) -> None:
    opening_compiles(opening + rest)
    verdicts_agree(opening + rest)


def test_a_generated_revision_is_proven_up_to_its_first_function() -> None:
    text = GENERATED_OPENING + BODY
    assert scan._proven_opening().match(text).end() == len(GENERATED_OPENING) + 2
    verdicts_agree(text)


@pytest.mark.parametrize(
    "rest",
    [
        "global revision\n",  # assigned before: refused only with what precedes it
        "global sa\ndef f(): pass\n",
        "global Union\n",
        "from __future__ import annotations\n",
        "def upgrade(:\n    pass\n",
        "    indented = 1\n",
        "\ufeffx = 1\n",
        "x = '\\N{NO SUCH NAME}'\n",
        "return 1\n",
        "'''unclosed\n",
        "b'é'\n",
        "x = 1\r\ny = (\r\n",
        "import __debug__\n",
        "from a import b.c\n",
        "from a import (b.c)\n",
        "from a import b,\n",
        "import a.\n",
        "import a as b.c\n",
        "x: A[] = None\n",
        "x: A | = None\n",
        "x: A[B,, C] = None\n",
        "x: if = None\n",
        "x = None.y\n",
        "None = 1\n",
        "x: int = ('a' 'b' 'c', 'd' 1)\n",
        "from . import\n",
        "import\n",
    ],
)
def test_what_python_refuses_after_a_proven_opening_is_refused(rest: str) -> None:
    text = GENERATED_OPENING + rest
    verdicts_agree(text)
    assert (scan._source_error(text.encode(), text, "f.py") is None) == (not whole_error(text))


@pytest.mark.parametrize(
    "opening",
    [
        "import a.\n",
        "from a import b.c\n",
        "from a import (b.c)\n",
        "from a import b,\n",
        "from a import ()\n",
        "import a as b.c\n",
        "x: A[] = None\n",
        "x: A | = None\n",
        "x: A[B,, C] = None\n",
        "x: if = None\n",
        "x: None.y = None\n",
        "None = 1\n",
        "__debug__ = 1\n",
        "import __debug__\n",
        "x = b'é'\n",
        "x = '\\N{NO SUCH NAME}'\n",
        "x = 'a' 'b'\n",
        "x = ('a', , 'b')\n",
        "x\u00a0= 1\n",
        "import a \\\n  .b\n",
        "from a import (b\n",
        '"""doc""""\n',
        "x = 1\n",
        "déjà = 'x'\n",
        "x: a .b = None\n",
    ],
)
def test_the_opening_grammar_refuses_near_misses(opening: str) -> None:
    end = scan._proven_opening().match(opening).end()
    assert end == 0
    verdicts_agree(GENERATED_OPENING + opening + BODY)
