{# base_marketing__events, incremental: an earlier row had no contact, and its contact_id or
   email resolves now (the model's `identity` and `email_identity`). #}
{% macro event_contact_now_known() -%}
    (
        contact_id is null
        and (
            source_contact_id in (select identity.source_contact_id from identity)
            or email in (select email_identity.email from email_identity)
        )
    )
{%- endmacro %}
