-- Every delivered data-subject request (optional landing table), typed and checked;
-- rejection_reason null = accepted. The customer is not checked against the customers: a
-- request naming no known customer is accepted and kept as unmatched (never dropped, the
-- DPO sees it). Requests are not erasable: the request record stays (docs/dpo.md).
{{ checked_landing_rows('rights', 'data_subject_requests', erasable=false) }}
