"""Rules learned from outcomes (`leadscore suggest-rules`): an engine that works without
Dagster; the asset in ``defs/backtest`` and the CLI call it."""
