-- One row per lead: its segment from the segment_matrix seed (first matching row wins).
{{ assign_matrix_segment(
    ref('int_segments__lead_dimensions'), 'contact_id', ref('segment_matrix')
) }}
