"""Random revision histories for property tests, and the same history as Alembic's RevisionMap."""

from __future__ import annotations

from alembic.script.revision import Revision, RevisionMap
from hypothesis import strategies as st

from workbench.core.scan import ScannedRevision


@st.composite
def revision_dags(draw: st.DrawFn, max_revisions: int = 24) -> list[ScannedRevision]:
    """Histories with several bases, branch points, merges of 2-4 parents, labels and depends_on.

    Revisions come in a random load order, which is not their topological order, as in a
    folder sorted by file name.
    """
    count = draw(st.integers(1, max_revisions))
    ids = [f"rev{index:02d}" for index in range(count)]
    labels: dict[str, str] = {}
    revisions = []
    for index, revision in enumerate(ids):
        earlier = ids[:index]
        wanted = draw(st.sampled_from([0, 1, 1, 1, 1, 1, 2, 2, 3, 4])) if earlier else 0
        parents = draw(st.permutations(earlier))[:wanted] if earlier else []
        dependencies = []
        if earlier and draw(st.integers(0, 5)) == 0:
            for target in draw(st.permutations(earlier))[: draw(st.integers(1, 2))]:
                named_by_label = target in labels and draw(st.booleans())
                dependencies.append(labels[target] if named_by_label else target)
        if draw(st.integers(0, 6)) == 0:
            labels[revision] = f"label{index}"
        revisions.append(
            ScannedRevision(
                revision=revision,
                down_revision=tuple(parents),
                branch_labels=(labels[revision],) if revision in labels else (),
                depends_on=tuple(dependencies),
            )
        )
    return draw(st.permutations(revisions))


def alembic_map(revisions: list[ScannedRevision]) -> RevisionMap:
    """Alembic's own revision map over the same revisions, in the same load order."""
    revision_map = RevisionMap(
        lambda: [
            Revision(
                scanned.revision,
                scanned.down_revision,
                dependencies=scanned.depends_on,
                branch_labels=scanned.branch_labels,
            )
            for scanned in revisions
        ]
    )
    revision_map.get_revisions("heads")  # load it now
    return revision_map
