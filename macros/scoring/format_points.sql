{# Points for people: 30 -> '30', 12.44 -> '12.4', 29.96 -> '30'. #}
{% macro format_points(expression) -%}
    case
        when round(cast({{ expression }} as decimal(18, 6)), 1)
            = round(cast({{ expression }} as decimal(18, 6)), 0)
            then cast(cast(round(cast({{ expression }} as decimal(18, 6)), 0) as bigint) as {{ text_type() }})
        else cast(round(cast({{ expression }} as decimal(18, 6)), 1) as {{ text_type() }})
    end
{%- endmacro %}
