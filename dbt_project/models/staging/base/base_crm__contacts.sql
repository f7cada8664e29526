-- Every raw contact row, typed and normalised, with the reason it cannot be used (if any)
-- and whether it is the newest version of its contact_id. Staging and quarantine both read
-- from here, so a row is judged in exactly one place.
{%- set raw_contacts = source('crm', 'crm_contacts') if crm_source() == 'generic'
    else ref('adapter_' ~ crm_source() ~ '__crm_contacts') %}
with

source as (
    select * from {{ raw_contacts }}
),

freemail_domains as (
    select domain from {{ ref('freemail_domains') }}
),

title_patterns as (
    select
        dimension,
        priority,
        pattern,
        value
    from {{ ref('job_title_patterns') }}
),

typed as (
    select
        -- lineage
        {{ raw_lineage_columns() }},

        -- ids
        {{ clean_text('contact_id') }} as contact_id,
        {{ clean_text('company_id') }} as company_id,

        -- strings
        {{ normalize_email('email') }} as email,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_text('job_title') }} as job_title,
        upper({{ clean_text('country') }}) as country,
        lower({{ clean_text('lead_source') }}) as lead_source,
        lower({{ clean_text('lifecycle_stage') }}) as lifecycle_stage,

        -- booleans
        coalesce({{ parse_boolean('unsubscribed') }}, false) as is_unsubscribed,

        -- timestamps
        {{ parse_timestamp('created_at') }} as created_at,
        {{ parse_timestamp('updated_at') }} as parsed_updated_at,
        {{ clean_text('updated_at') }} is not null as has_updated_at
    from source
),

-- Titles repeat a lot: match the distinct ones against the patterns, not every row.
titles as (
    select distinct lower(job_title) as job_title_key
    from typed
    where job_title is not null
),

title_matches as (
    select
        titles.job_title_key,
        title_patterns.dimension,
        title_patterns.value,
        row_number() over (
            partition by titles.job_title_key, title_patterns.dimension
            order by title_patterns.priority
        ) as match_rank
    from titles
    inner join title_patterns
        on {{ regexp_like('titles.job_title_key', 'title_patterns.pattern') }}
),

title_attributes as (
    select
        job_title_key,
        max(case when dimension = 'seniority' then value end) as seniority,
        max(case when dimension = 'department' then value end) as department
    from title_matches
    where match_rank = 1
    group by job_title_key
),

enriched as (
    select
        typed.*,
        coalesce(
            {{ regexp_like(
                'typed.email',
                "'^[a-z0-9._%+-]+@[a-z0-9-]+([.][a-z0-9-]+)*[.][a-z]{2,}$'"
            ) }},
            false
        ) as is_valid_email,
        coalesce(title_attributes.seniority, 'unknown') as seniority,
        coalesce(title_attributes.department, 'other') as department,
        case
            when typed.contact_id is null then 'missing_contact_id'
            when typed.created_at is null then 'invalid_timestamp'
            when typed.has_updated_at and typed.parsed_updated_at is null
                then 'invalid_timestamp'
            when {{ created_after_load('typed.created_at', 'typed._loaded_at') }}
                then 'future_timestamp'
        end as quarantine_reason
    from typed
    left join title_attributes
        on lower(typed.job_title) = title_attributes.job_title_key
),

final as (
    select
        -- lineage
        enriched._file_id,
        enriched._source_row,
        enriched._source_file,
        enriched._loaded_at,

        -- ids
        enriched.contact_id,
        enriched.company_id,

        -- strings
        enriched.email,
        case when enriched.is_valid_email then split_part(enriched.email, '@', 2) end
            as email_domain,
        enriched.first_name,
        enriched.last_name,
        enriched.job_title,
        enriched.seniority,
        enriched.department,
        enriched.country,
        enriched.lead_source,
        enriched.lifecycle_stage,
        enriched.quarantine_reason,

        -- booleans
        enriched.is_valid_email,
        freemail_domains.domain is not null as is_freemail,
        enriched.is_unsubscribed,
        enriched.quarantine_reason is null
        and row_number() over (
            partition by enriched.contact_id, enriched.quarantine_reason is null
            order by
                coalesce(enriched.parsed_updated_at, enriched.created_at) desc,
                enriched._loaded_at desc,
                enriched._file_id desc,
                enriched._source_row desc
        ) = 1 as is_current_version,

        -- timestamps
        enriched.created_at,
        coalesce(enriched.parsed_updated_at, enriched.created_at) as updated_at
    from enriched
    left join freemail_domains
        on
            enriched.is_valid_email
            and split_part(enriched.email, '@', 2) = freemail_domains.domain
)

select * from final
