"""Lead scoring warehouse: Dagster orchestration for the dbt project in ``dbt_project/``."""
