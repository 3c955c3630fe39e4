-- Quarantined landing rows per table and reason: the aggregate the DPO reads in the
-- published warehouse. The rows themselves stay in the restricted store
-- (<warehouse>/restricted/dpo.duckdb, dpo.quarantined_rows). The column name "rows" is
-- the published interface (issue #9), although a keyword.

select
    run_date,
    source_table,
    reason,
    count(*) as rows  -- noqa: RF04
from {{ ref('quarantined_rows') }}
group by run_date, source_table, reason
