{# The as-of moment: the end of the as-of date, as a timestamp. #}
{% macro as_of_end() -%}
    (cast('{{ as_of_date_literal() }}' as timestamp) + {{ one_day_interval() }})
{%- endmacro %}
