-- What the postgres destination sends: one row per lead, keyed by the matching key.
{{ sync_standard_payload('postgres') }}
