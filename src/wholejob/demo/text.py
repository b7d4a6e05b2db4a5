"""Vectorised text for demo records: names, subjects and bodies from phrase pools.

Phrases live in the packaged data file ``demo_phrases.toml``. Each text column is
built by drawing fragment indices with the generator and joining the fragments
with Arrow compute kernels, so millions of rows need no Python loop per row.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from wholejob.demo.profiles import ALL_PRACTICES

__all__ = [
    "ACTIVITY_TYPES",
    "Phrases",
    "Pool",
    "compose_activity_text",
    "load_phrases",
    "make_ids",
    "pick",
]

ACTIVITY_TYPES: tuple[str, ...] = ("call", "email", "meeting", "social", "task", "other")

IntArray = npt.NDArray[np.int64]

# Occasional misspellings, applied to a small random share of rows, because real
# notes are typed in a hurry and a classifier must survive them.
TYPOS: tuple[tuple[str, str], ...] = (
    ("the ", "teh "),
    ("follow", "folow"),
    ("meeting", "meetign"),
    ("proposal", "propsal"),
    ("receive", "recieve"),
    ("schedule", "schedual"),
    ("with", "wiht"),
)


@dataclass(frozen=True)
class Pool:
    """Fragment groups stored back to back in one Arrow array."""

    values: pa.StringArray
    start: IntArray
    size: IntArray

    @classmethod
    def from_groups(cls, groups: list[list[str]]) -> Pool:
        """Build a pool from one list of fragments per group (a group may be empty)."""
        sizes = np.array([len(g) for g in groups], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        flat = [s for g in groups for s in g] or [""]
        return cls(pa.array(flat, pa.string()), starts, sizes)

    def draw(self, group: IntArray, rng: np.random.Generator) -> pa.Array:
        """Return one random fragment of each row's group ('' for an empty group)."""
        size = self.size[group]
        pick = (rng.random(len(group)) * np.maximum(size, 1)).astype(np.int64)
        idx = np.where(size > 0, self.start[group] + pick, -1)
        out = self.values.take(pa.array(np.maximum(idx, 0)))
        return pc.if_else(pa.array(idx >= 0), out, "")

    def draw_two(self, group: IntArray, rng: np.random.Generator) -> tuple[pa.Array, pa.Array]:
        """Return two different fragments of each row's group (groups need two or more)."""
        size = np.maximum(self.size[group], 2)
        first = (rng.random(len(group)) * size).astype(np.int64)
        step = 1 + (rng.random(len(group)) * (size - 1)).astype(np.int64)
        second = (first + step) % size
        start = self.start[group]
        return (self.values.take(pa.array(start + first)),
                self.values.take(pa.array(start + second)))


@dataclass(frozen=True)
class Phrases:
    """All phrase pools of the data file, indexed by practice or activity type."""

    raw: dict[str, Any]
    head: Pool
    tail: Pool
    body: Pool
    type_prefix: Pool
    type_lead: Pool
    type_close: Pool

    def names(self, key: str) -> list[str]:
        """Return the list ``[names].key`` of the data file."""
        return list(self.raw["names"][key])

    def section(self, table: str, key: str) -> list[str]:
        """Return the list ``[table].key`` of the data file."""
        return list(self.raw[table][key])


@cache
def load_phrases() -> Phrases:
    """Read the packaged phrase file once per process."""
    text = resources.files("wholejob").joinpath("data", "demo_phrases.toml").read_text("utf-8")
    raw = tomllib.loads(text)
    prac = raw["practices"]
    types = raw["types"]
    return Phrases(
        raw=raw,
        head=Pool.from_groups([prac[p]["head"] for p in ALL_PRACTICES]),
        tail=Pool.from_groups([prac[p]["tail"] for p in ALL_PRACTICES]),
        body=Pool.from_groups([prac[p]["body"] for p in ALL_PRACTICES]),
        type_prefix=Pool.from_groups([types[t]["prefix"] for t in ACTIVITY_TYPES]),
        type_lead=Pool.from_groups([types[t]["lead"] for t in ACTIVITY_TYPES]),
        type_close=Pool.from_groups([types[t]["close"] for t in ACTIVITY_TYPES]),
    )


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _mask(rng: np.random.Generator, n: int, p: float) -> pa.Array:
    return pa.array(rng.random(n) < p)


def _roughen(text: pa.Array, rng: np.random.Generator, typo_rate: float) -> pa.Array:
    """Apply occasional typos and case changes, as hurried people type."""
    n = len(text)
    for wrong, right in TYPOS:
        text = pc.if_else(
            _mask(rng, n, typo_rate),
            pc.replace_substring(text, wrong, right, max_replacements=1),
            text,
        )
    text = pc.if_else(_mask(rng, n, 0.06), pc.utf8_lower(text), text)
    return pc.if_else(_mask(rng, n, 0.01), pc.utf8_upper(text), text)


def compose_activity_text(
    practice: IntArray,
    atype: IntArray,
    contact_first: pa.Array,
    account_name: pa.Array,
    rng: np.random.Generator,
) -> tuple[pa.Array, pa.Array]:
    """Return (subject, body) for activities of the given practice and type indices.

    ``contact_first`` and ``account_name`` are string arrays with nulls where the
    activity has no contact or account; names are woven into some subjects and into
    the greeting of emails.
    """
    ph = load_phrases()
    n = len(practice)
    has_acct = pc.is_valid(account_name)
    has_contact = pc.is_valid(contact_first)
    acct = pc.fill_null(account_name, "")
    first = pc.fill_null(contact_first, "")

    # Where the name goes in the subject: nowhere, " - Acme", " w/ Maria", " (Acme)", " @ Acme".
    style = rng.integers(0, 5, n)
    use_contact = pa.array(style == 2)
    name = pc.if_else(use_contact, first, acct)
    has_name = pc.and_(pc.if_else(use_contact, has_contact, has_acct), pa.array(style > 0))
    left = pa.array(np.array(["", " - ", " w/ ", " (", " @ "])[style])
    right = pa.array(np.array(["", "", "", ")", ""])[style])
    name_part = pc.if_else(has_name, _join(left, name, right), "")
    subject = _join(
        ph.type_prefix.draw(atype, rng),
        ph.head.draw(practice, rng),
        " ",
        ph.tail.draw(practice, rng),
        name_part,
    )
    subject = pc.utf8_trim_whitespace(pc.replace_substring(subject, "  ", " "))
    subject = _roughen(subject, rng, 0.01)

    # Emails open with a greeting to the contact; other types with a note lead.
    is_email = pa.array(atype == ACTIVITY_TYPES.index("email"))
    greeting = pc.if_else(
        has_contact, _join(ph.type_lead.draw(atype, rng), first, ",\n"), "Hi there,\n"
    )
    lead = pc.if_else(is_email, greeting, ph.type_lead.draw(atype, rng))
    one, other = ph.body.draw_two(practice, rng)
    second = pc.if_else(pa.array(rng.random(n) < 0.6), _join(" ", other), "")
    body = _join(lead, one, second, ph.type_close.draw(atype, rng))
    body = _roughen(body, rng, 0.015)
    # Many CRM activities carry no body at all.
    body = pc.if_else(_mask(rng, n, 0.15), pa.scalar(None, pa.string()), body)
    return subject, body


def make_ids(prefix: str, numbers: IntArray, width: int) -> pa.Array:
    """Return ids like ``AC0000042`` for the given numbers, zero-padded to ``width``."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")
    return _join(prefix, digits)


def pick(values: list[str], index: IntArray) -> pa.Array:
    """Return ``values[index]`` for every row as an Arrow string array."""
    return pa.array(values, pa.string()).take(pa.array(index))
