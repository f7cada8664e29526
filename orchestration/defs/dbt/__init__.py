"""The dbt project as Dagster assets; dbt tests arrive as asset checks."""
