"""Onboarding a CRM export with a mapping file instead of a script.

``mapping`` reads and validates ``mapping.yml``; ``transform`` applies it to one file and
yields all-text batches per raw table; ``inspect`` profiles a file and drafts a mapping. No
Dagster here: the loader (``orchestration.ingest.loader``) and the CLI call these.
"""
