"""Reading one text value of an export: dates, numbers and boolean words.

Shared by the transform (which writes what these return) and by ``inspect`` (which asks which
format every value of a column parses with). Each function returns None for a value that does
not parse; the caller decides what to write instead (the transform keeps the value as
received, so staging quarantines the row with its reason).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

NAMED_DATE_FORMATS = (
    "iso",
    "YYYY-MM-DD",
    "M/D/YYYY",
    "D/M/YYYY",
    "D.M.YYYY",
    "YYYY/MM/DD",
    "epoch_seconds",
    "epoch_milliseconds",
)

# An optional time after the date: "14:05", "14:05:09", "14:05:09.123", "2:05 PM".
_TIME = (
    r"(?:(?:T|\s+)(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,]\d{1,9})?)?"
    r"(?:\s*(?P<ampm>[AaPp])\.?[Mm]\.?)?)?"
)
_DATE_PATTERNS = {
    "YYYY-MM-DD": re.compile(rf"(?P<year>\d{{4}})-(?P<month>\d{{1,2}})-(?P<day>\d{{1,2}}){_TIME}"),
    "M/D/YYYY": re.compile(rf"(?P<month>\d{{1,2}})/(?P<day>\d{{1,2}})/(?P<year>\d{{4}}){_TIME}"),
    "D/M/YYYY": re.compile(rf"(?P<day>\d{{1,2}})/(?P<month>\d{{1,2}})/(?P<year>\d{{4}}){_TIME}"),
    "D.M.YYYY": re.compile(rf"(?P<day>\d{{1,2}})\.(?P<month>\d{{1,2}})\.(?P<year>\d{{4}}){_TIME}"),
    "YYYY/MM/DD": re.compile(rf"(?P<year>\d{{4}})/(?P<month>\d{{1,2}})/(?P<day>\d{{1,2}}){_TIME}"),
}
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_EPOCH = datetime(1970, 1, 1)
# Separators a thousands setting of " " also removes: no-break and narrow no-break spaces.
_SPACES = ("\u00a0", "\u202f")


def is_valid_date_format(fmt: str) -> bool:
    return fmt in NAMED_DATE_FORMATS or "%" in fmt


def _named(match: re.Match[str]) -> datetime | None:
    hour = int(match["hour"] or 0)
    if match["ampm"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match["ampm"].lower() == "p" else 0)
    try:
        return datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            hour,
            int(match["minute"] or 0),
            int(match["second"] or 0),
        )
    except ValueError:
        return None


def _utc(moment: datetime) -> datetime:
    """Naive UTC: an aware moment is converted, a naive one is taken as UTC already."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def parse_date(text: str, fmt: str) -> datetime | None:
    """The moment ``text`` names in ``fmt`` (naive, UTC), or None when it does not parse."""
    value = text.strip()
    if not value:
        return None
    if fmt == "iso":
        try:
            return _utc(datetime.fromisoformat(value))
        except ValueError:
            return None
    if fmt in ("epoch_seconds", "epoch_milliseconds"):
        if not _NUMBER.fullmatch(value):
            return None
        seconds = float(value) / (1000 if fmt == "epoch_milliseconds" else 1)
        try:
            return _EPOCH + timedelta(seconds=int(seconds))
        except OverflowError:
            return None
    pattern = _DATE_PATTERNS.get(fmt)
    if pattern is not None:
        match = pattern.fullmatch(value)
        return _named(match) if match else None
    try:
        return _utc(datetime.strptime(value, fmt))
    except ValueError:
        return None


def format_timestamp(moment: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS``: what staging reads as a timestamp."""
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )


def normalise_number(text: str, decimal: str = ".", thousands: str = "") -> str | None:
    """The number with the thousands separator removed and a '.' decimal point, otherwise
    as written (``5.0`` stays ``5.0``); None when it is not a number."""
    value = text.strip()
    if thousands:
        value = value.replace(thousands, "")
        if thousands == " ":
            for space in _SPACES:
                value = value.replace(space, "")
    if decimal == ",":
        value = value.replace(",", ".")
    return value if _NUMBER.fullmatch(value) else None


def is_plain_number(text: str) -> bool:
    """A number written with a '.' decimal point and no separators."""
    return _NUMBER.fullmatch(text.strip()) is not None


def slash_date_parts(text: str) -> tuple[int, int] | None:
    """The first two parts of a ``a/b/YYYY`` date (either order), or None."""
    match = _DATE_PATTERNS["M/D/YYYY"].fullmatch(text.strip())
    return (int(match["month"]), int(match["day"])) if match else None
