{#
    An incremental model whose full build runs in ranges of whole days, one statement each
    (day_ranges() in the model's query plans them): the day aggregates, where one statement
    over 200M events needed more than 60 GB of temporary files. Otherwise it is dbt's
    incremental materialization: the first statement creates the table (a first build), a
    new table swapped in at the end (`--full-refresh`) or appends through the configured
    incremental strategy after on_schema_change (an incremental run, whose query either
    holds no day_ranges() or, after a rules edit, rebuilds every range); the other ranges are
    inserted into the same table in date order. is_incremental() is true for it as for
    `incremental` (macros/incremental/is_incremental.sql). Spark and BigQuery build such a
    model as a table (incremental_config()).
#}
{% materialization day_chunked_incremental, default -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set temp_relation = make_temp_relation(target_relation) -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set backup_relation_type = 'table' if existing_relation is none else existing_relation.type -%}
    {%- set backup_relation = make_backup_relation(target_relation, backup_relation_type) -%}
    {%- set full_refresh_mode = existing_relation is not none
        and (should_full_refresh() or existing_relation.is_view) -%}
    {%- set on_schema_change = incremental_validate_on_schema_change(
        config.get('on_schema_change'), default='ignore'
    ) -%}
    {%- set grant_config = config.get('grants') -%}
    {%- set statements = _day_range_statements(sql) -%}

    {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
    {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- if existing_relation is none -%}
        {%- set write_relation = target_relation -%}
        {%- set build_sql = get_create_table_as_sql(False, target_relation, statements[0]) -%}
    {%- elif full_refresh_mode -%}
        {%- set write_relation = intermediate_relation -%}
        {%- set build_sql = get_create_table_as_sql(False, intermediate_relation, statements[0]) -%}
    {%- else -%}
        {%- set write_relation = target_relation -%}
        {%- do run_query(get_create_table_as_sql(True, temp_relation, statements[0])) -%}
        {%- do adapter.expand_target_column_types(
            from_relation=temp_relation, to_relation=target_relation
        ) -%}
        {%- set dest_columns = process_schema_changes(
            on_schema_change, temp_relation, existing_relation
        ) or adapter.get_columns_in_relation(existing_relation) -%}
        {%- set strategy = config.get('incremental_strategy') or 'default' -%}
        {%- set strategy_sql = adapter.get_incremental_strategy_macro(context, strategy) -%}
        {%- set build_sql = strategy_sql({
            'target_relation': target_relation,
            'temp_relation': temp_relation,
            'unique_key': config.get('unique_key'),
            'dest_columns': dest_columns,
            'incremental_predicates': config.get('incremental_predicates'),
        }) -%}
    {%- endif -%}

    {% call statement('main') -%}
        {{ build_sql }}
    {%- endcall %}

    {%- if statements | length > 1 -%}
        {%- set columns = adapter.get_columns_in_relation(write_relation)
            | map(attribute='quoted') | join(', ') -%}
        {%- for statement_sql in statements[1:] -%}
            {%- do log(
                "day aggregates: range " ~ (loop.index + 1) ~ " of " ~ statements | length,
                info=true
            ) -%}
            {%- call statement('day_range_' ~ (loop.index + 1)) -%}
                insert into {{ write_relation }} ({{ columns }})
                select {{ columns }} from ({{ statement_sql }}) as day_range
            {%- endcall -%}
        {%- endfor -%}
    {%- endif -%}

    {%- if existing_relation is none or full_refresh_mode -%}
        {%- do create_indexes(write_relation) -%}
    {%- endif -%}
    {%- set to_drop = [] -%}
    {%- if full_refresh_mode -%}
        {%- do adapter.rename_relation(target_relation, backup_relation) -%}
        {%- do adapter.rename_relation(intermediate_relation, target_relation) -%}
        {%- do to_drop.append(backup_relation) -%}
    {%- endif -%}

    {%- do apply_grants(
        target_relation, grant_config, should_revoke=should_revoke(existing_relation, full_refresh_mode)
    ) -%}
    {%- do persist_docs(target_relation, model) -%}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {%- do adapter.commit() -%}
    {%- for relation in to_drop -%}
        {%- do adapter.drop_relation(relation) -%}
    {%- endfor -%}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{%- endmaterialization %}

{# The model's query once per planned range of days (see day_ranges()), in date order: the
   first range open below, the last open above; [sql] when nothing is planned. #}
{% macro _day_range_statements(sql) -%}
    {%- set opening = '(/* day_ranges ' -%}
    {%- set closing = ' */ true)' -%}
    {%- set start = sql.find(opening) -%}
    {%- if start < 0 -%}
        {{ return([sql]) }}
    {%- endif -%}
    {%- set finish = sql.find(closing, start) + closing | length -%}
    {%- set marker = sql[start:finish] -%}
    {%- set plan = fromjson(sql[start + opening | length:finish - closing | length]) -%}
    {%- set day = 'cast(' ~ plan.column ~ ' as date)' -%}
    {%- set statements = [] -%}
    {%- for first in plan.starts -%}
        {%- set parts = [] -%}
        {%- if not loop.first -%}
            {%- do parts.append(day ~ " >= cast('" ~ first ~ "' as date)") -%}
        {%- endif -%}
        {%- if not loop.last -%}
            {%- do parts.append(day ~ " < cast('" ~ plan.starts[loop.index] ~ "' as date)") -%}
        {%- endif -%}
        {%- do statements.append(sql.replace(marker, '(' ~ parts | join(' and ') ~ ')')) -%}
    {%- endfor -%}
    {{ return(statements) }}
{%- endmacro %}
