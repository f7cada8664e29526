-- One row per company: its account segment, from the same segment matrix as leads (tier,
-- account engagement level, and the account's best lead score).
{{ assign_matrix_segment(
    ref('int_segments__account_rollup'), 'company_id', ref('segment_matrix')
) }}
