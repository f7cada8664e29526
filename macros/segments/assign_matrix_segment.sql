{#
    The segment matrix (`matrix`, the segment_matrix seed) applied to any relation with
    `company_tier`, `engagement_level` and `lead_score` columns and a key: the first `segment_matrix` row, in priority order, whose
    tier, engagement levels and score range all match. Used for leads and for accounts.
#}
{% macro assign_matrix_segment(relation, key_column, matrix) %}
with

candidates as (
    select * from {{ relation }}
),

matrix as (
    select
        trim(segment) as segment,
        cast(trim(priority) as integer) as segment_priority,
        trim(company_tier) as company_tier,
        {{ normalize_rule_value('engagement_levels') }} as engagement_levels,
        {{ as_number('min_lead_score') }} as min_lead_score,
        {{ as_number('max_lead_score') }} as max_lead_score,
        trim(sales_action) as sales_action,
        trim(campaign_track) as campaign_track,
        trim(route) as route
    from {{ matrix }}
),

matches as (
    select
        candidates.{{ key_column }},
        matrix.segment,
        matrix.segment_priority,
        matrix.sales_action,
        matrix.campaign_track,
        matrix.route,
        row_number() over (
            partition by candidates.{{ key_column }} order by matrix.segment_priority
        ) as match_rank
    from candidates
    inner join matrix
        on
            (matrix.company_tier is null or matrix.company_tier = candidates.company_tier)
            and (
                matrix.engagement_levels is null
                or position(
                    '|' || lower(candidates.engagement_level) || '|'
                    in '|' || matrix.engagement_levels || '|'
                ) > 0
            )
            and (matrix.min_lead_score is null or candidates.lead_score >= matrix.min_lead_score)
            and (matrix.max_lead_score is null or candidates.lead_score <= matrix.max_lead_score)
)

select
    {{ key_column }},
    segment,
    segment_priority,
    sales_action,
    campaign_track,
    route
from matches
where match_rank = 1
{% endmacro %}
