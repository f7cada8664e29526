"""What a failed dbt build says to the person who has to fix it: for each failed test, the
first failing rows' keys, read back from the warehouse with the test's own compiled query
(dbt itself only says "Got 3 results"), and for each errored node its message.

Only key-like columns are shown (ids, the test's counts and reasons): never emails or names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

FIRST_ROWS = 10
PERSONAL = re.compile(r"(email|name|phone|address)", re.IGNORECASE)

Fetch = Callable[[str], tuple[list[str], list[tuple]]]


def _node_name(unique_id: str) -> str:
    parts = unique_id.split(".")
    return parts[2] if len(parts) > 2 else unique_id


def _row_text(columns: list[str], row: tuple) -> str:
    shown = [
        f"{column}={value}"
        for column, value in zip(columns, row, strict=True)
        if not PERSONAL.search(column)
    ]
    return ", ".join(shown) or "(only personal columns: not shown)"


def failure_details(run_results: Mapping[str, Any], fetch: Fetch) -> list[str]:
    """One line per failed or errored node of a dbt run, with the first failing rows of
    each failed test; `fetch(sql)` runs a query and returns (columns, rows)."""
    lines: list[str] = []
    for result in run_results.get("results", []):
        status = result.get("status")
        unique_id = result.get("unique_id", "")
        name = _node_name(unique_id)
        if status == "error":
            message = (result.get("message") or "").strip().splitlines()
            lines.append(f"{name}: error: {message[0] if message else 'see the dbt log'}")
            lines += [f"    {line}" for line in message[1:FIRST_ROWS]]
        elif status == "fail" and unique_id.startswith("test."):
            failures = result.get("failures")
            lines.append(f"{name}: {failures} failing row(s)")
            sql = result.get("compiled_code")
            if not sql:
                continue
            try:
                columns, rows = fetch(f"select * from ({sql}) as failing limit {FIRST_ROWS}")
            except Exception as error:  # the failure itself is what matters
                lines.append(f"    (the failing rows could not be read: {type(error).__name__})")
                continue
            lines += [f"    {_row_text(columns, row)}" for row in rows]
        elif status == "fail":
            lines.append(f"{name}: failed")
    return lines
