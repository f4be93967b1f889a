"""The revision graph: heads, bases, merges, branch labels, dependencies and pending upgrades.

Alembic's ``RevisionMap`` answers the same questions with quadratic walks (seconds at 5,000
revisions); here every answer comes from linear passes, and a history with errors in it still
gives a graph, with the errors listed as diagnostics.
"""

from __future__ import annotations

import functools
import heapq
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence

from workbench.core.collector import collector_paused
from workbench.core.scan import Diagnostic, ScannedRevision

_ILLEGAL_ID = re.compile(r"[@\-+:]")
_EMPTY: frozenset[str] = frozenset()


class GraphError(ValueError):
    """A revision identifier that names nothing, or more than the question allows."""


_MAPS = (
    "parents",
    "children",
    "dependencies",
    "dependents",
    "label_owners",
    "upgrade_parents",
)
_SEQUENCES = ("heads", "resolved_heads", "bases", "branch_points", "merge_points", "order")


class RevisionGraph:
    """The revisions and their relations, with Alembic's meaning for each word.

    ``heads`` are the revisions no ``down_revision`` names (``alembic heads``);
    ``resolved_heads`` also leave out the ones a ``depends_on`` names (``alembic heads
    --resolve-dependencies``, and what ``upgrade heads`` targets). Dependencies are edges
    for upgrades and ancestry, never for ``parents``/``children``; ``upgrade_parents`` are the
    edges an upgrade follows (parents, then dependencies no ancestor already declares).
    ``order`` puts parents first. Maps follow load order. ``branch_labels`` is worked out
    on first use: drawing or classifying the graph never needs it. Built once per command, as
    a plain class: a frozen dataclass would cost a millisecond to define at every start.
    """

    def __init__(
        self,
        *,
        revisions: Mapping[str, ScannedRevision],
        parents: Mapping[str, tuple[str, ...]],
        children: Mapping[str, tuple[str, ...]],
        dependencies: Mapping[str, tuple[str, ...]],
        dependents: Mapping[str, tuple[str, ...]],
        heads: tuple[str, ...],
        resolved_heads: tuple[str, ...],
        bases: tuple[str, ...],
        branch_points: tuple[str, ...],
        merge_points: tuple[str, ...],
        label_owners: Mapping[str, str],
        order: tuple[str, ...],
        diagnostics: tuple[Diagnostic, ...],
        upgrade_parents: Mapping[str, tuple[str, ...]],
    ) -> None:
        self.revisions = revisions
        self.parents = parents
        self.children = children
        self.dependencies = dependencies
        self.dependents = dependents
        self.heads = heads
        self.resolved_heads = resolved_heads
        self.bases = bases
        self.branch_points = branch_points
        self.merge_points = merge_points
        self.label_owners = label_owners
        self.order = order
        self.diagnostics = diagnostics
        self.upgrade_parents = upgrade_parents
        self.laid_out: list | None = None
        """The layout rows (``layout.LayoutRow``) once worked out by ``layout.drawn_rows``; a
        kept graph brings them. Held here, typed loosely: the layout module builds on this one."""

    @functools.cached_property
    def branch_labels(self) -> Mapping[str, frozenset[str]]:
        """Each revision's branch labels, spread along the graph as Alembic spreads them."""
        return _propagate_labels(
            self.label_owners,
            self.parents,
            self.children,
            self.dependents,
            set(self.merge_points),
            self.order,
        )

    def to_plain(self) -> tuple[object, ...]:
        """The graph as plain tuples, dicts and strings, which ``marshal`` writes.

        Marshal writes them in half the time pickle takes to write the graph's objects:
        ``workbench tui``'s forked child sends the graph this way.
        """
        return (
            {revision: tuple(scanned) for revision, scanned in self.revisions.items()},
            *(dict(getattr(self, name)) for name in _MAPS),
            *(tuple(getattr(self, name)) for name in _SEQUENCES),
            tuple(tuple(diagnostic) for diagnostic in self.diagnostics),
        )

    @classmethod
    def from_plain(cls, plain: Sequence[object]) -> RevisionGraph:
        """The graph ``to_plain`` gave."""
        revisions, *rest = plain
        maps = rest[: len(_MAPS)]
        sequences = rest[len(_MAPS) : len(_MAPS) + len(_SEQUENCES)]
        make_revision, make_diagnostic = ScannedRevision._make, Diagnostic._make
        with collector_paused():
            return cls(
                revisions={key: make_revision(values) for key, values in revisions.items()},
                **dict(zip(_MAPS, maps, strict=True)),
                **dict(zip(_SEQUENCES, sequences, strict=True)),
                diagnostics=tuple(make_diagnostic(values) for values in rest[-1]),
            )

    def ancestors(self, revisions: Iterable[str], dependencies: bool = True) -> set[str]:
        """The given revisions and everything below them (through ``depends_on`` too, if asked)."""
        return _closure(revisions, self.upgrade_parents if dependencies else self.parents)

    def descendants(self, revisions: Iterable[str], dependencies: bool = True) -> set[str]:
        """The given revisions and everything above them (through ``depends_on`` too, if asked)."""
        if not dependencies:
            return _closure(revisions, self.children)
        above = {
            revision: self.children[revision] + self.dependents[revision]
            for revision in self.revisions
        }
        return _closure(revisions, above)

    def resolve(self, identifier: str) -> tuple[str, ...]:
        """The revision ids a name stands for, as Alembic reads it.

        Accepts a revision id, a unique prefix of at least one id longer than three characters,
        a branch label, ``heads``, ``head``, ``base``, ``label@head``, ``label@heads`` and
        ``label@<revision>``.
        """
        if "@" in identifier:
            label, symbol = identifier.split("@", 1)
            return self._resolve_on_branch(label, symbol)
        if identifier == "heads":
            return self.resolved_heads
        if identifier == "head":
            if len(self.heads) > 1:
                raise GraphError(
                    f"Multiple heads are present for given argument 'head'; {', '.join(self.heads)}"
                )
            return self.heads
        if identifier == "base":
            return ()
        return (self._lookup(identifier),)

    def _lookup(self, name: str) -> str:
        """One revision id for an id, a label or a unique id prefix."""
        if name in self.revisions:
            return name
        if name in self.label_owners:
            return self.label_owners[name]
        matches = [
            key
            for key in (*self.revisions, *self.label_owners)
            if len(key) > 3 and key.startswith(name)
        ]
        if not matches:
            hint = "; give at least four characters of a revision id" if len(name) < 4 else ""
            raise GraphError(f"No such revision or branch {name!r}{hint}")
        if len(matches) > 1:
            raise GraphError(f"Multiple revisions start with {name!r}: {', '.join(matches[:3])}")
        return self.label_owners.get(matches[0], matches[0])

    def _resolve_on_branch(self, label: str, symbol: str) -> tuple[str, ...]:
        """``label@head``, ``label@heads`` and ``label@<revision>``."""
        anchor = self._lookup(label)
        lineage = self.ancestors([anchor], dependencies=False) | self.descendants(
            [anchor], dependencies=False
        )
        if symbol in ("head", "heads"):
            heads = tuple(head for head in self.heads if head in lineage)
            if symbol == "head" and len(heads) > 1:
                raise GraphError(
                    f"Multiple heads are present for given argument '{label}@head'; "
                    f"{', '.join(heads)}"
                )
            return heads
        revision = self._lookup(symbol)
        if revision not in lineage:
            raise GraphError(f"Revision {revision} is not a member of branch {label!r}")
        return (revision,)

    def pending(self, current: Iterable[str] = (), target: str = "heads") -> list[str]:
        """The revisions ``alembic upgrade <target>`` runs from ``current``, in its order.

        ``current`` is what a version table holds (several rows for several heads, none at base).
        The order is Alembic's ``iterate_revisions(target, current, implicit_base=True)``
        reversed, reproduced exactly; only where Alembic's own order is random (a revision with
        two dependencies of its own, kept in a set) the declared order is used.
        """
        standing = tuple(dict.fromkeys(current))
        for revision in standing:
            if revision not in self.revisions:
                raise GraphError(f"Can't locate revision identified by {revision!r}")
        _check_no_overlap(standing, self.upgrade_parents)
        targets = self.resolve(target)
        if set(targets).issubset(standing):  # at the target: nothing below it is pending
            return []
        needed = self.ancestors(targets)
        needed.difference_update(self.ancestors(standing))
        return self.upgrade_order(needed, targets)

    def upgrade_order(self, needed: set[str], targets: Sequence[str]) -> list[str]:
        """The order Alembic runs ``needed`` in when upgrading to ``targets``.

        Plans read it backwards for downgrades, as Alembic does.
        """
        position = {revision: index for index, revision in enumerate(self.revisions)}
        first = sorted({target for target in targets if target in needed}, key=position.__getitem__)
        return _UpgradeWalk(needed, self.upgrade_parents).run(first)


class _UpgradeWalk:
    """Alembic's walk down from the targets, reproduced step for step without its ancestor sets.

    Alembic keeps one "slot" per line being followed. It follows the current slot while no
    other slot's revision descends from the one there; otherwise it jumps to the first slot
    (in slot order) whose revision does, testing full ancestor sets (quadratic). Here a revision
    is blocked exactly when one of its children is still waiting, and the slot to jump to is
    found from the revision's waiting descendants, collected once per blocked revision: that
    set only shrinks, and a slot that stops lying above the revision never does again.
    Linear on real histories; the sets add up to more than the history only when thousands of
    unmerged heads are upgraded at once.
    """

    def __init__(self, needed: set[str], below: Mapping[str, tuple[str, ...]]) -> None:
        self.below = below
        self.waiting: dict[str, int] = dict.fromkeys(needed, 0)
        self.above: dict[str, list[str]] = {}
        for revision in needed:
            for parent in below[revision]:
                if parent in self.waiting:
                    self.waiting[parent] += 1
                    self.above.setdefault(parent, []).append(revision)
        self.slots = _Slots()
        self.blocked: dict[str, _Blocked] = {}

    def run(self, targets: Sequence[str]) -> list[str]:
        """The upgrade order: Alembic's walk emits the newest revision first."""
        waiting, slots = self.waiting, self.slots
        for target in targets:
            slots.append(target)
        emitted: list[str] = []
        slot = slots.first
        while slot is not None:
            revision = slots.head[slot]
            if waiting[revision]:
                slot = self._first_slot_above(revision)
                continue
            emitted.append(revision)
            del waiting[revision]
            del slots.slot_of[revision]
            new_heads = []
            for parent in self.below[revision]:
                if parent in waiting:
                    waiting[parent] -= 1
                    if parent not in slots.slot_of:
                        new_heads.append(parent)
            if new_heads:
                slots.replace(slot, new_heads[0])
                for parent in new_heads[1:]:
                    slots.append(parent)
            else:
                slot = slots.remove(slot)
        emitted.reverse()
        return emitted

    def _first_slot_above(self, revision: str) -> int:
        """The first slot whose revision descends from the blocked ``revision``."""
        slots = self.slots
        state = self.blocked.get(revision)
        if state is None:
            above = self._waiting_descendants(revision)
            candidates = [slots.slot_of[r] for r in above if r in slots.slot_of]
            heapq.heapify(candidates)
            state = self.blocked[revision] = _Blocked(above, candidates, slots.created)
        else:
            for key in range(state.examined, slots.created):
                if slots.head.get(key) in state.above:
                    heapq.heappush(state.candidates, key)
            state.examined = slots.created
        candidates = state.candidates
        while slots.head.get(candidates[0]) not in state.above:
            heapq.heappop(candidates)
        return candidates[0]

    def _waiting_descendants(self, revision: str) -> set[str]:
        """The revisions above ``revision`` that the walk has not emitted yet."""
        found: set[str] = set()
        stack = [revision]
        while stack:
            for child in self.above.get(stack.pop(), ()):
                if child in self.waiting and child not in found:
                    found.add(child)
                    stack.append(child)
        return found


class _Blocked:
    """What the walk remembers about a blocked revision between two visits."""

    __slots__ = ("above", "candidates", "examined")

    def __init__(self, above: set[str], candidates: list[int], examined: int) -> None:
        self.above = above
        self.candidates = candidates
        self.examined = examined


class _Slots:
    """Alembic's ``current_heads`` list as a linked list: O(1) removal, order kept by key."""

    def __init__(self) -> None:
        self.head: dict[int, str] = {}
        self.slot_of: dict[str, int] = {}
        self.next: dict[int, int | None] = {}
        self.previous: dict[int, int | None] = {}
        self.first: int | None = None
        self.last: int | None = None
        self.created = 0

    def append(self, revision: str) -> None:
        """Open a slot after all others, as Alembic appends to ``current_heads``."""
        key = self.created
        self.created += 1
        self.head[key] = revision
        self.slot_of[revision] = key
        self.previous[key] = self.last
        self.next[key] = None
        if self.last is None:
            self.first = key
        else:
            self.next[self.last] = key
        self.last = key

    def replace(self, key: int, revision: str) -> None:
        """Move a slot down its line, keeping its place."""
        self.head[key] = revision
        self.slot_of[revision] = key

    def remove(self, key: int) -> int | None:
        """Unlink a slot; return the one Alembic looks at next (the previous, else the first)."""
        before, after = self.previous.pop(key), self.next.pop(key)
        del self.head[key]
        if before is None:
            self.first = after
        else:
            self.next[before] = after
        if after is None:
            self.last = before
        else:
            self.previous[after] = before
        return before if before is not None else self.first


def _check_no_overlap(revisions: Sequence[str], below: Mapping[str, tuple[str, ...]]) -> None:
    """Refuse current revisions of which one is an ancestor of another, as Alembic does."""
    if len(revisions) < 2:
        return
    strictly_below = _closure(
        (parent for revision in revisions for parent in below[revision]), below
    )
    overlapping = [revision for revision in revisions if revision in strictly_below]
    if overlapping:
        raise GraphError(
            f"Requested revision {overlapping[0]} overlaps with other requested revisions "
            f"{', '.join(r for r in revisions if r != overlapping[0])}"
        )


def _closure(start: Iterable[str], edges: Mapping[str, Sequence[str]]) -> set[str]:
    """Everything reachable from ``start`` (inclusive) along ``edges``."""
    reached = set(start)
    stack = list(reached)
    while stack:
        for following in edges[stack.pop()]:
            if following not in reached:
                reached.add(following)
                stack.append(following)
    return reached


def build_graph(
    revisions: Iterable[ScannedRevision], diagnostics: Iterable[Diagnostic] = ()
) -> RevisionGraph:
    """Build the graph from scanned revisions (in load order), best effort when they have errors.

    Diagnostics are added for duplicate ids, missing parents or dependencies, cycles, branch
    labels used twice and illegal ids. While a file's revision id (or a branch label) is not
    known, a parent (or dependency) no known revision defines may be that one: unresolved,
    not missing.
    """
    with collector_paused():
        found = list(diagnostics)
        by_id = _index(revisions, found)
        label_owners = _label_owners(by_id, found)
        ids_unknown = any(diagnostic.kind == "unknown_id" for diagnostic in found)
        labels_unknown = ids_unknown or any(
            name == "branch_labels" for scanned in by_id.values() for name, _ in scanned.expressions
        )
        parents, dependencies = _edges(by_id, label_owners, found, ids_unknown, labels_unknown)
        children, dependents = _reverse(by_id, parents), _reverse(by_id, dependencies)
        order = _topological(parents, dependencies, children, dependents)
        if len(order) < len(by_id):
            _break_cycles(by_id, order, parents, dependencies, found)
            children, dependents = _reverse(by_id, parents), _reverse(by_id, dependencies)
            order = _topological(parents, dependencies, children, dependents)
        merge_points = tuple(
            revision for revision, scanned in by_id.items() if len(scanned.down_revision) > 1
        )
        return RevisionGraph(
            revisions=by_id,
            parents=parents,
            children=children,
            dependencies=dependencies,
            dependents=dependents,
            heads=tuple(revision for revision, kids in children.items() if not kids),
            resolved_heads=tuple(
                revision
                for revision, kids in children.items()
                if not kids and not dependents[revision]
            ),
            bases=tuple(
                revision
                for revision, scanned in by_id.items()
                if not scanned.down_revision and not _parents_unknown(scanned)
            ),
            branch_points=tuple(revision for revision, kids in children.items() if len(kids) > 1),
            merge_points=merge_points,
            label_owners=label_owners,
            order=tuple(order),
            diagnostics=tuple(found),
            upgrade_parents=_upgrade_parents(parents, dependencies, order),
        )


def _reverse(
    by_id: Mapping[str, ScannedRevision], edges: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """The edges turned around (parents to children), in load order, for every revision."""
    reversed_edges: dict[str, list[str]] = {}
    for revision, targets in edges.items():
        for target in targets:
            reversed_edges.setdefault(target, []).append(revision)
    return {
        revision: tuple(reversed_edges[revision]) if revision in reversed_edges else ()
        for revision in by_id
    }


def _index(
    revisions: Iterable[ScannedRevision], found: list[Diagnostic]
) -> dict[str, ScannedRevision]:
    """Revisions by id in load order; a repeated id keeps its first place and its last file."""
    by_id: dict[str, ScannedRevision] = {}
    for scanned in revisions:
        revision = scanned.revision
        previous = by_id.get(revision)
        if previous is not None:
            found.append(
                Diagnostic(
                    "duplicate_id",
                    revision,
                    scanned.path,
                    f"revision {revision} is also defined in {previous.path}; "
                    "this later file is the one used, as in Alembic",
                )
            )
        by_id[revision] = scanned
        if _ILLEGAL_ID.search(revision) is not None:
            found.append(
                Diagnostic(
                    "illegal_id",
                    revision,
                    scanned.path,
                    f"revision id {revision!r} contains one of '@', '-', '+', ':'; "
                    "Alembic refuses it",
                )
            )
    return by_id


def _parents_unknown(scanned: ScannedRevision) -> bool:
    """True when ``down_revision`` is an expression: the revision may not be a base at all."""
    return any(name == "down_revision" for name, _ in scanned.expressions)


def _label_owners(by_id: Mapping[str, ScannedRevision], found: list[Diagnostic]) -> dict[str, str]:
    """The revision declaring each branch label; the first declaration in load order wins."""
    owners: dict[str, str] = {}
    for revision, scanned in by_id.items():
        for label in scanned.branch_labels:
            taken_by = label if label in by_id else owners.get(label)
            if taken_by is None:
                owners[label] = revision
            else:  # Alembic refuses a label used twice, even in one revision or as its own id
                found.append(
                    Diagnostic(
                        "duplicate_label",
                        revision,
                        scanned.path,
                        f"branch label {label!r} is already used by revision {taken_by}; "
                        "ignored here",
                    )
                )
    return owners


def _edges(
    by_id: Mapping[str, ScannedRevision],
    label_owners: Mapping[str, str],
    found: list[Diagnostic],
    ids_unknown: bool = False,
    labels_unknown: bool = False,
) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Each revision's existing parents and resolved dependencies; the rest become diagnostics."""
    parents: dict[str, tuple[str, ...]] = {}
    dependencies: dict[str, tuple[str, ...]] = {}
    for revision, scanned in by_id.items():
        declared = scanned.down_revision
        if len(declared) == 1 and declared[0] in by_id and declared[0] != revision:
            parents[revision] = declared
        else:
            kept: list[str] = []
            for parent in declared:
                if parent == revision:
                    found.append(_cycle(scanned, [revision]))
                elif parent not in by_id and ids_unknown:
                    found.append(
                        Diagnostic(
                            "unresolved_parent",
                            revision,
                            scanned.path,
                            f"down_revision names {parent!r}, which no revision file defines "
                            "unless it is one whose revision id is not known",
                        )
                    )
                elif parent not in by_id:
                    found.append(
                        Diagnostic(
                            "missing_parent",
                            revision,
                            scanned.path,
                            f"down_revision names {parent!r}, which no revision file defines",
                        )
                    )
                elif parent not in kept:
                    kept.append(parent)
            parents[revision] = tuple(kept)
        if not scanned.depends_on:
            dependencies[revision] = ()
            continue
        resolved: list[str] = []
        for name in scanned.depends_on:
            dependency = name if name in by_id else label_owners.get(name)
            if dependency is None:
                found.append(
                    Diagnostic(
                        "unresolved_dependency" if labels_unknown else "missing_dependency",
                        revision,
                        scanned.path,
                        f"depends_on names {name!r}, which is neither a revision nor a label"
                        + (" that can be read" if labels_unknown else ""),
                    )
                )
            elif dependency == revision:
                found.append(_cycle(scanned, [revision]))
            elif dependency not in resolved:
                resolved.append(dependency)
        dependencies[revision] = tuple(resolved)
    return parents, dependencies


def _cycle(scanned: ScannedRevision, members: Sequence[str]) -> Diagnostic:
    """The diagnostic for revisions that lead back to themselves."""
    return Diagnostic(
        "cycle",
        scanned.revision,
        scanned.path,
        f"revisions {' -> '.join(members)} lead back to themselves; "
        "the edge closing the loop is ignored",
    )


def _break_cycles(
    by_id: Mapping[str, ScannedRevision],
    placed: Sequence[str],
    parents: dict[str, tuple[str, ...]],
    dependencies: dict[str, tuple[str, ...]],
    found: list[Diagnostic],
) -> None:
    """Report each cycle and drop its edges that point to a revision loaded later."""
    done = set(placed)
    position = {revision: index for index, revision in enumerate(by_id)}
    for component in _cycles([r for r in by_id if r not in done], parents, dependencies):
        members = sorted(component, key=position.__getitem__)
        found.append(_cycle(by_id[members[0]], [*members, members[0]]))
        for revision in members:
            for edges in (parents, dependencies):
                edges[revision] = tuple(
                    other
                    for other in edges[revision]
                    if other not in component or position[other] < position[revision]
                )


def _topological(
    parents: Mapping[str, tuple[str, ...]],
    dependencies: Mapping[str, tuple[str, ...]],
    children: Mapping[str, tuple[str, ...]],
    dependents: Mapping[str, tuple[str, ...]],
) -> list[str]:
    """Kahn's algorithm, parents and dependencies first; revisions on cycles are left out."""
    missing = {
        revision: len(below) + len(dependencies[revision]) for revision, below in parents.items()
    }
    ready = deque(revision for revision, count in missing.items() if not count)
    order: list[str] = []
    while ready:
        revision = ready.popleft()
        order.append(revision)
        for upper in children[revision] + dependents[revision]:
            missing[upper] -= 1
            if not missing[upper]:
                ready.append(upper)
    return order


def _cycles(
    revisions: Sequence[str],
    parents: Mapping[str, tuple[str, ...]],
    dependencies: Mapping[str, tuple[str, ...]],
) -> list[set[str]]:
    """The strongly connected components with a cycle among ``revisions`` (Tarjan, iterative)."""
    inside = set(revisions)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in revisions:
        if root in index:
            continue
        work = [(root, iter(parents[root] + dependencies[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for lower in edges:
                if lower not in inside:
                    continue
                if lower not in index:
                    index[lower] = low[lower] = len(index)
                    stack.append(lower)
                    on_stack.add(lower)
                    work.append((lower, iter(parents[lower] + dependencies[lower])))
                    break
                if lower in on_stack:
                    low[node] = min(low[node], index[lower])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(component)
    return components


def _propagate_labels(
    label_owners: Mapping[str, str],
    parents: Mapping[str, tuple[str, ...]],
    children: Mapping[str, tuple[str, ...]],
    dependents: Mapping[str, tuple[str, ...]],
    merge_points: set[str],
    order: Sequence[str],
) -> dict[str, frozenset[str]]:
    """Each revision's branch labels, as Alembic's ``RevisionMap._add_branches`` spreads them.

    A label covers its revision and all its descendants. It also covers the revision's
    ancestors down to the nearest branch or merge point, but only when the labelled revision's
    descendants form one line without branch or merge points: Alembic walks down from the last
    descendant and stops at the first revision with two children (dependents included) or two
    parents.
    """
    own: dict[str, frozenset[str]] = {}
    for label, revision in label_owners.items():
        own[revision] = own.get(revision, _EMPTY) | {label}
    if not own:
        return dict.fromkeys(order, _EMPTY)
    labels: dict[str, frozenset[str]] = {}
    for revision in order:
        inherited = _EMPTY
        for parent in parents[revision]:
            inherited = labels[parent] if not inherited else inherited | labels[parent]
        labels[revision] = own[revision] | inherited if revision in own else inherited
    # walking down from the top: a revision is on a clean line when the walk from the last
    # descendant passes it; ``carried`` holds the labels that walk takes further down
    clean_line: dict[str, bool] = {}
    carried: dict[str, frozenset[str]] = {}
    for revision in reversed(order):
        kids = children[revision]
        fan_out = len(kids) + len(dependents[revision])
        if fan_out > 1 and kids and dependents[revision]:
            fan_out = len(set(kids).union(dependents[revision]))
        if len(kids) == 1:
            reached = clean_line[kids[0]]
            arriving = carried[kids[0]]
        else:
            reached = not kids
            arriving = _EMPTY
        if fan_out > 1 or revision in merge_points:
            clean_line[revision] = False
            carried[revision] = _EMPTY
            continue
        clean_line[revision] = reached
        if reached and revision in own:
            arriving = arriving | own[revision]
        carried[revision] = arriving
        if arriving:
            labels[revision] = labels[revision] | arriving
    return {revision: labels[revision] for revision in parents}


def _upgrade_parents(
    parents: Mapping[str, tuple[str, ...]],
    dependencies: Mapping[str, tuple[str, ...]],
    order: Sequence[str],
) -> dict[str, tuple[str, ...]]:
    """Parents plus the dependencies no ancestor already declares (Alembic's normalization).

    Alembic drops a dependency that some ``down_revision`` ancestor also depends on; that
    changes the order of an upgrade, so it is reproduced. Only dependencies named by two or
    more revisions can be dropped, so only those are carried down the graph.
    """
    named: dict[str, int] = {}
    for listed in dependencies.values():
        for dependency in listed:
            named[dependency] = named.get(dependency, 0) + 1
    shared = {dependency for dependency, count in named.items() if count > 1}
    result = dict(parents)
    declared_below: dict[str, frozenset[str]] = {}
    for revision in order:
        below = _EMPTY
        if shared:
            for parent in parents[revision]:
                from_parent = declared_below[parent]
                if dependencies[parent]:
                    from_parent = from_parent | shared.intersection(dependencies[parent])
                below = from_parent if not below else below | from_parent
            declared_below[revision] = below
        listed = dependencies[revision]
        if listed:
            extra = tuple(
                dependency
                for dependency in listed
                if dependency not in below and dependency not in parents[revision]
            )
            if extra:
                result[revision] = parents[revision] + extra
    return result
