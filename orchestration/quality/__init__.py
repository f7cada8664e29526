"""Data-quality engines that work without Dagster (the checks in ``defs/quality`` call them)."""
