"""Every distinct value of every published column, scanned once per suite for identifiers."""

from __future__ import annotations

from dataclasses import dataclass

from privacy_pipeline.gates.candidate import Candidate, quote, sql_literal

# Types that cannot hold a phone number, an e-mail or a name.
UNSCANNED_TYPES = ("BOOLEAN", "DATE", "TIME", "TIMESTAMP", "INTERVAL", "DOUBLE", "FLOAT", "REAL")
VALUES_TABLE = "gate_published_values"


@dataclass(frozen=True)
class ScannedValues:
    table: str  # temp table (table_name, column_name, value)
    scope: str


def scanned_columns(candidate: Candidate) -> list[tuple[str, str, str]]:
    return [
        (schema, table, column)
        for schema, table in candidate.tables()
        for column, data_type in candidate.columns(schema, table).items()
        if not data_type.upper().startswith(UNSCANNED_TYPES)
    ]


def published_values(candidate: Candidate) -> ScannedValues:
    """Materialise (table_name, column_name, value) of the published schemas, once."""
    if VALUES_TABLE in candidate.cache:
        return candidate.cache[VALUES_TABLE]
    columns = scanned_columns(candidate)
    selects = [
        f"""select distinct {sql_literal(f"{schema}.{table}")} as table_name,
                   {sql_literal(column)} as column_name,
                   cast({quote(column)} as varchar) as value
            from {quote(schema)}.{quote(table)} where {quote(column)} is not null"""
        for schema, table, column in columns
    ]
    body = " union all ".join(selects) or (
        "select null::varchar as table_name, null::varchar as column_name, "
        "null::varchar as value where false"
    )
    candidate.con.execute(f"create or replace temp table {VALUES_TABLE} as {body}")
    candidate.materialised_from[VALUES_TABLE] = body  # the rows its promises read
    tables = {f"{schema}.{table}" for schema, table, _ in columns}
    scanned = ScannedValues(
        VALUES_TABLE, f"{len(columns)} columns of {len(tables)} published tables scanned"
    )
    candidate.cache[VALUES_TABLE] = scanned
    return scanned


def masked(expression: str) -> str:
    """Enough of a value for the DPO to recognise it, not enough to copy it."""
    return f"""(
        case when length({expression}) <= 6 then repeat('*', length({expression}))
             else left({expression}, 3) || repeat('*', length({expression}) - 5)
                  || right({expression}, 2) end
    )"""
