"""The HTML report: the data it reads from the marts and the page it renders, without
Dagster; the report asset in ``defs/report`` writes it."""
