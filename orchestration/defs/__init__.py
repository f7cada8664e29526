"""Dagster definitions, grouped by integration: ``ingest`` (landing files) and ``dbt``."""
