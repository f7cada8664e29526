{# True when every relation exists in the warehouse (not so while sqlfluff compiles the
   project against an empty database). #}
{% macro _relations_exist(relations) -%}
    {%- for relation in relations -%}
        {%- if load_relation(relation) is none -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(true) }}
{%- endmacro %}
