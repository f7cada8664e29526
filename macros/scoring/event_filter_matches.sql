{#
    A behaviour rule's filter on an event attribute: the fit rules' operators on the
    attribute's text (equals, not_equals, in, not_in, contains, regex, is_missing,
    is_present) or its number (gt, gte, lt, lte), with a missing value meeting only
    is_missing.
#}
{% macro event_filter_matches(value, operator, filter_value) -%}
    {{ condition_matches(
        'lower(' ~ value ~ ')',
        parse_number(value),
        'cast(null as boolean)',
        "'text'",
        operator,
        filter_value,
        parse_number(filter_value),
        'cast(null as ' ~ double_type() ~ ')',
        'cast(null as ' ~ double_type() ~ ')',
        'false'
    ) }}
{%- endmacro %}
