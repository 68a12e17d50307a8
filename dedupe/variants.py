"""Block variants line by line: align each version's lines to shared slots, name each change.

A slot is a line position shared by all versions of one block, so "the Kyrgyz seats line"
is one slot whether it says 7 or 6. Lines are matched to slots by their near-duplicate
cluster (the same labels the furniture step computed), in order. A changed slot is then
named by what its facts say: a different non-empty value is a ``conflict``; a value that
became empty is ``missing`` (and the reverse ``filled``); the same facts in other words are
a ``reworded`` line; anything else is ``changed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .facts import Fact, extract_facts


@dataclass(frozen=True)
class LineChange:
    """How one slot differs between a block version and the one before it."""

    slot: int
    kind: str
    old_text: str | None
    new_text: str | None
    detail: str


def assign_slots(versions: Sequence[Sequence[int]], texts: Sequence[Sequence[str]] | None = None) -> list[list[int]]:
    """Slots for each version's lines, given each line's cluster label (and, optionally, its text).

    The first version (the reference) numbers its lines 0..n-1; a later line takes the first
    unused slot with its label, else (when ``texts`` are given) the first unused slot whose line
    stated the same facts (the same delegations and fields: "consists of 7 deputies" and "of 6
    deputies"), else a new slot after the last one. The fact match matters because a line's
    cluster depends on where it was seen: a variant seen on one listing page only (a scheduled
    run that revisited nothing else) is body text there and keeps a cluster of its own, while
    the same variant seen on article pages joins its predecessor's cluster; matching by facts
    gives the change the same slot, so the same label (``conflict``, ``missing``), either way.
    """
    slots_of_label: dict[int, list[int]] = {}
    facts_of_slot: dict[int, frozenset[tuple[str, str]]] = {}
    next_slot = 0
    result: list[list[int]] = []
    for index, labels in enumerate(versions):
        signatures = _fact_keys(texts[index]) if texts is not None else {}
        used: set[int] = set()
        assigned: list[int | None] = [None] * len(labels)
        for position, label in enumerate(labels):  # 1. the line's own cluster
            slot = next((s for s in slots_of_label.get(label, []) if s not in used), None)
            if slot is not None:
                used.add(slot)
                assigned[position] = slot
        for position, label in enumerate(labels):  # 2. a line stating the same facts, 3. a new slot
            if assigned[position] is not None:
                continue
            keys = signatures.get(position)
            slot = None
            if keys:
                slot = next((s for s, k in sorted(facts_of_slot.items()) if k == keys and s not in used), None)
            if slot is None:
                slot = next_slot
                next_slot += 1
            slots_of_label.setdefault(label, []).append(slot)
            used.add(slot)
            assigned[position] = slot
        for position, slot in enumerate(assigned):
            if signatures.get(position):
                facts_of_slot[slot] = signatures[position]
        result.append([slot for slot in assigned if slot is not None])
    return result


def _fact_keys(lines: Sequence[str]) -> dict[int, frozenset[tuple[str, str]]]:
    """Per line: the (delegation, field) pairs it states; lines stating none are left out."""
    keys: dict[int, set[tuple[str, str]]] = {}
    for fact in extract_facts(lines):
        keys.setdefault(fact.line_no, set()).add((fact.delegation, fact.field))
    return {line: frozenset(found) for line, found in keys.items()}


def _facts_by_line(lines: Sequence[str], facts: Sequence[Fact] | None = None) -> dict[int, dict[tuple[str, str], str]]:
    by_line: dict[int, dict[tuple[str, str], str]] = {}
    fact: Fact
    for fact in extract_facts(lines) if facts is None else facts:
        by_line.setdefault(fact.line_no, {})[(fact.delegation, fact.field)] = fact.value
    return by_line


def classify(old: dict[tuple[str, str], str], new: dict[tuple[str, str], str]) -> tuple[str, str]:
    """Kind and a short detail for a line whose text changed, from the facts on each side."""
    conflicts, missing, filled = [], [], []
    for key in sorted(set(old) & set(new)):
        before, after = old[key], new[key]
        name = f"{key[0]} {key[1]}"
        if before and after and before != after:
            conflicts.append(f"{name}: {before} → {after}")
        elif before and not after:
            missing.append(f"{name}: {before} → (empty)")
        elif after and not before:
            filled.append(f"{name}: (empty) → {after}")
    if conflicts:
        return "conflict", "; ".join(conflicts)
    if missing:
        return "missing", "; ".join(missing)
    if filled:
        return "filled", "; ".join(filled)
    if old and old == new:
        return "reworded", "same facts: " + "; ".join(f"{d} {f} = {v}" for (d, f), v in sorted(old.items()))
    return "changed", ""


def compare_versions(
    old_lines: Sequence[str],
    old_slots: Sequence[int],
    new_lines: Sequence[str],
    new_slots: Sequence[int],
    old_facts: Sequence[Fact] | None = None,
    new_facts: Sequence[Fact] | None = None,
) -> list[LineChange]:
    """Line-level changes from one block version to the next, by slot. Each version's facts, when
    the caller has them (the archive extracts them once per version), are not extracted again."""
    old_by_slot = dict(zip(old_slots, range(len(old_lines))))
    new_by_slot = dict(zip(new_slots, range(len(new_lines))))
    old_facts, new_facts = _facts_by_line(old_lines, old_facts), _facts_by_line(new_lines, new_facts)
    changes: list[LineChange] = []
    for slot in sorted(set(old_by_slot) | set(new_by_slot)):
        i, j = old_by_slot.get(slot), new_by_slot.get(slot)
        old_text = old_lines[i] if i is not None else None
        new_text = new_lines[j] if j is not None else None
        if old_text == new_text:
            continue
        if old_text is None:
            changes.append(LineChange(slot, "added", None, new_text, ""))
        elif new_text is None:
            changes.append(LineChange(slot, "removed", old_text, None, ""))
        else:
            kind, detail = classify(old_facts.get(i, {}), new_facts.get(j, {}))
            changes.append(LineChange(slot, kind, old_text, new_text, detail))
    return changes
