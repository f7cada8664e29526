"""Backtests of rule changes: an asset run on demand, never by the scheduled refresh."""
