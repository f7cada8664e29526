-- One row per company: its newest usable version, with the size band from the seed.
with

companies as (
    select * from {{ ref('base_crm__companies') }}
    where is_current_version
),

size_bands as (
    select * from {{ ref('company_size_bands') }}
),

final as (
    select
        -- ids
        companies.company_id,

        -- strings
        companies.company_name,
        companies.domain,
        companies.industry,
        companies.country,
        size_bands.size_band,

        -- numerics
        companies.employee_count,
        companies.annual_revenue,

        -- booleans
        companies.is_employee_count_invalid,
        companies.is_annual_revenue_invalid,

        -- timestamps
        companies.created_at,
        companies.updated_at,

        -- lineage: the raw row of this version (its extra columns are attributes rules can
        -- name, read by int_scoring__contact_profile)
        companies._file_id,
        companies._source_row
    from companies
    left join size_bands
        on
            companies.employee_count >= size_bands.min_employees
            and (
                size_bands.max_employees is null
                or companies.employee_count <= size_bands.max_employees
            )
)

select * from final
