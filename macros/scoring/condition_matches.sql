{#
    True when a value meets a rule condition: the one implementation of the operators, for
    every seed that uses them (fit rules, custom segments). The caller passes the value in
    each form the condition may read it as:
      text_value     lower-case text, NULL when missing (placeholders were read as missing);
      number_value   the value as a number: a number, or for a date its age in whole days
                     at the as-of date (0 = that day, 30 = thirty days before);
      boolean_value  the value read as a boolean (yes/no, y/n, 1/0, true/false).
    Operators:
      is_missing / is_present             whether there is a value;
      equals / not_equals                 text, or number / boolean for those types;
      in / not_in                         against a `|`-separated list of text values;
      contains / regex                    on the text;
      gt / gte / lt / lte                 against `value_number`;
      between                             min_value <= value <= max_value, either may be empty.
    A missing value meets no condition but is_missing, and not_equals / not_in when
    `missing_matches` is true ("not a student" counting leads who did not say).
#}
{% macro condition_matches(
    text_value, number_value, boolean_value, attribute_type, operator, rule_value,
    value_number, min_value, max_value, missing_matches
) -%}
    coalesce(
        case {{ operator }}
            when 'is_missing' then {{ text_value }} is null
            when 'is_present' then {{ text_value }} is not null
            when 'equals' then {{ _condition_equals(
                text_value, number_value, boolean_value, attribute_type, rule_value, value_number
            ) }}
            when 'not_equals' then
                case
                    when {{ text_value }} is null then {{ missing_matches }}
                    else not {{ _condition_equals(
                        text_value, number_value, boolean_value, attribute_type, rule_value,
                        value_number
                    ) }}
                end
            when 'in'
                then position('|' || {{ text_value }} || '|' in '|' || {{ rule_value }} || '|') > 0
            when 'not_in' then
                case
                    when {{ text_value }} is null then {{ missing_matches }}
                    else position('|' || {{ text_value }} || '|' in '|' || {{ rule_value }} || '|') = 0
                end
            when 'contains' then position({{ rule_value }} in {{ text_value }}) > 0
            when 'regex' then {{ regexp_like(text_value, rule_value) }}
            when 'gt' then {{ number_value }} > {{ value_number }}
            when 'gte' then {{ number_value }} >= {{ value_number }}
            when 'lt' then {{ number_value }} < {{ value_number }}
            when 'lte' then {{ number_value }} <= {{ value_number }}
            when 'between'
                then
                    {{ number_value }} is not null
                    and ({{ min_value }} is null or {{ number_value }} >= {{ min_value }})
                    and ({{ max_value }} is null or {{ number_value }} <= {{ max_value }})
        end,
        false
    )
{%- endmacro %}

{% macro _condition_equals(text_value, number_value, boolean_value, attribute_type, rule_value, value_number) -%}
    case {{ attribute_type }}
        when 'number' then {{ number_value }} = {{ value_number }}
        when 'date' then {{ number_value }} = {{ value_number }}
        when 'boolean' then {{ boolean_value }} = {{ parse_boolean(rule_value) }}
        else {{ text_value }} = {{ rule_value }}
    end
{%- endmacro %}
