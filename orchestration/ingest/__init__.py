"""Landing files -> raw tables: the raw contract and the loader, which work without
Dagster; the ingest assets in ``defs/ingest``, the sensor, the CLI and the erasure call it."""
