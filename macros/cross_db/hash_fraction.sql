{#
    A stable pseudo-random number in [0, 1) from a text expression: the same value on every
    run, so a sample drawn with it (e.g. `hash_fraction(id) < 0.1`) is the same sample each
    time. Cross-database from md5: the first 8 hex digits as a 32-bit number.
#}
{% macro hash_fraction(expression) -%}
    {{ return(adapter.dispatch('hash_fraction', 'leadscore')(expression)) }}
{%- endmacro %}

{% macro default__hash_fraction(expression) -%}
    (cast(cast(('x' || substr(md5({{ expression }}), 1, 8)) as bit(32)) as bigint)
        / 4294967296.0)
{%- endmacro %}

{% macro duckdb__hash_fraction(expression) -%}
    (cast(('0x' || substr(md5({{ expression }}), 1, 8)) as ubigint) / 4294967296.0)
{%- endmacro %}

{% macro spark__hash_fraction(expression) -%}
    (cast(conv(substr(md5({{ expression }}), 1, 8), 16, 10) as bigint) / 4294967296.0)
{%- endmacro %}
