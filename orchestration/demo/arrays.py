"""Vectorised numpy and pyarrow helpers the demo tables are built from, the random streams
(one per table, ``_rng(seed, STREAM_...)``) and the dirty-row count rule."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Independent random streams: adding draws to one table never changes another.
(
    STREAM_COMPANIES,
    STREAM_COMPANY_ROWS,
    STREAM_PEOPLE,
    STREAM_CONTACT_ROWS,
    STREAM_DEALS,
    STREAM_OWNERS,
    STREAM_EVENTS,
) = range(7)
MIN_ROWS_FOR_DIRT = 100  # at least one dirty row of each contact/company kind from here on


def _rng(seed: int, *key: int) -> np.random.Generator:
    """One PCG64 stream per (seed, key): streams never shift each other, so output is stable."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def _choice(
    rng: np.random.Generator, weights: Sequence[float] | np.ndarray, size: int
) -> np.ndarray:
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _shares(pairs: Sequence[tuple]) -> tuple[tuple[str, ...], np.ndarray]:
    """Split (label, weight, ...) constants into labels and weights."""
    return tuple(pair[0] for pair in pairs), np.array([pair[1] for pair in pairs], dtype=float)


def _take(
    values: Sequence[str] | pa.Array, index: np.ndarray, null: np.ndarray | None = None
) -> pa.Array:
    """Look strings up by index; rows flagged in ``null`` become nulls."""
    array = values if isinstance(values, pa.Array) else pa.array(list(values), pa.string())
    return array.take(pa.array(np.asarray(index, dtype=np.int64), mask=null))


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _ints(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    return _join(prefix, pc.utf8_lpad(_ints(numbers), width=width, padding="0"))


def _timestamps(seconds: np.ndarray) -> pa.Array:
    """Format epoch seconds as ``YYYY-MM-DD HH:MM:SS``; negative entries become nulls."""
    seconds = np.asarray(seconds, dtype=np.int64)
    stamps = pa.array(seconds, type=pa.timestamp("s"), mask=seconds < 0)
    return stamps.cast(pa.string())


def _bools(values: np.ndarray) -> pa.Array:
    return _take(("false", "true"), np.asarray(values, dtype=np.int64))


def _where(mask: np.ndarray, then: pa.Array | str, otherwise: pa.Array | str) -> pa.Array:
    return pc.if_else(pa.array(mask), then, otherwise)


def _null_where(array: pa.Array, mask: np.ndarray) -> pa.Array:
    return _where(mask, pa.scalar(None, pa.string()), array)


def _replace(array: pa.Array, mask: np.ndarray, replacements: pa.Array) -> pa.Array:
    """Put ``replacements`` (in row order) where ``mask`` is set."""
    if not mask.any():
        return array
    return pc.replace_with_mask(array, pa.array(mask), replacements)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _between(rng: np.random.Generator, low: np.ndarray, high: np.ndarray | int) -> np.ndarray:
    """Uniform integers in [low, high) for arrays of bounds (high > low)."""
    low = np.asarray(low, dtype=np.int64)
    span = np.asarray(high, dtype=np.int64) - low
    return low + np.floor(rng.random(low.shape) * span).astype(np.int64)


def _dirt_count(rows: int, share: float) -> int:
    """Dirty rows of one kind: the share, rounded, but never zero once a table is big enough."""
    count = round(rows * share)
    return max(1, count) if rows >= MIN_ROWS_FOR_DIRT else count


def _pick(rng: np.random.Generator, candidates: np.ndarray, count: int) -> np.ndarray:
    """Sorted random subset; sorted because ``_replace`` fills masked rows in row order."""
    count = min(count, len(candidates))
    return np.sort(rng.choice(candidates, size=count, replace=False))


def _mask(size: int, index: np.ndarray) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    mask[index] = True
    return mask


def _first_occurrence(values: pa.Array) -> np.ndarray:
    """True for the first row of every distinct value, False for later repeats."""
    codes = values.dictionary_encode().indices.to_numpy()
    first = np.zeros(len(values), dtype=bool)
    first[np.unique(codes, return_index=True)[1]] = True
    return first
