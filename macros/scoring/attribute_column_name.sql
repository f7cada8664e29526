{# A raw column's name as a profile column: `contact__<name>` with anything but [a-z0-9_]
   replaced, so an odd column name from another loader still makes an identifier. #}
{% macro attribute_column_name(source, name) -%}
    {{ return(source ~ '__' ~ modules.re.sub('[^a-z0-9_]', '_', name)) }}
{%- endmacro %}
