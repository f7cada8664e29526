-- What the files destination sends: one row per lead, keyed by the matching key.
{{ sync_standard_payload('files') }}
