{{
    config(
        full_refresh=false,
        **incremental_config(
            unique_key=['contact_id', 'as_of_date'],
            on_schema_change='append_new_columns',
            spark_partition_by='as_of_date',
        )
    )
}}

-- One row per lead and as-of date: the lead's segment on that date. Like the score history,
-- it accumulates across refreshes and is never dropped by --full-refresh.
select
    contact_id,
    segment,
    company_tier,
    engagement_level,
    as_of_date
from {{ ref('dim_lead_segments') }}
