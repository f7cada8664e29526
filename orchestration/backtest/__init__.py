"""Backtesting a rule change against history before it is published."""
