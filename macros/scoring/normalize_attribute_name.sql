{# A name as rules may write it ("Total Visits", "contact.Total Visits") in the catalog's
   form: lower case, runs of anything but letters, digits, `_` and `.` as one `_`. #}
{% macro normalize_attribute_name(column) -%}
    {{ regexp_replace_all(
        regexp_replace_all('lower(trim(' ~ column ~ '))', "'[^a-z0-9_.]+'", "'_'"),
        "'^_+|_+$'",
        "''"
    ) }}
{%- endmacro %}
