{#
    The columns of a payload in the warehouse's own names, for destinations that take them
    as they are (files, postgres, webhook): declared once, so a column added here reaches
    every such destination. Each name is a column of sync_leads().
#}
{% macro standard_payload_columns() -%}
    {{ return([
        'sync_key',
        'fit_score',
        'behavior_score',
        'lead_score',
        'fit_grade',
        'lead_stage',
        'segment',
        'sales_action',
        'campaign_track',
        'queue',
        'owner_id',
        'owner_name',
        'score_reasons',
        'score_change',
        'outreach_suppressed',
        'score_updated_on',
    ]) }}
{%- endmacro %}
