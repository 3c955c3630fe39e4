-- A location figure code has three fields of 20 bits (macro location_figure_code): a key
-- code at or beyond 2^20 would spill into the next field and merge two figures. Fails on
-- any code out of 1 .. 2^20 - 1 (a million areas and events: far beyond Belgium's).

select
    key_level,
    key_id,
    key_code
from {{ ref('int_location__key_codes') }}
where key_code < 1 or key_code >= 1048576
