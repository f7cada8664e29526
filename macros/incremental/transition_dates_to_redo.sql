{# The dates whose stage transitions a run rebuilds: the as-of date and the next snapshot. #}
{% macro transition_dates_to_redo(neighbours) -%}
    {{ as_of_date() }}
    {%- if neighbours[1] %}, cast('{{ neighbours[1] }}' as date){% endif %}
{%- endmacro %}
