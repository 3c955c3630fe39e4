"""privacy_pipeline.transaction: a block's writes are committed together or not at all."""

import duckdb
import pytest
from privacy_pipeline.transaction import transaction


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create table t (x integer)")
    yield con
    con.close()


def test_a_block_that_ends_is_committed(con):
    with transaction(con):
        con.execute("insert into t values (1), (2)")
    assert con.execute("select count(*) from t").fetchone()[0] == 2
    # Committed, so no transaction is left open: a new one can begin.
    with transaction(con):
        con.execute("insert into t values (3)")
    assert con.execute("select count(*) from t").fetchone()[0] == 3


def test_a_block_that_raises_is_rolled_back_and_its_error_raised(con):
    with pytest.raises(ValueError, match="half way"), transaction(con):
        con.execute("insert into t values (1)")
        raise ValueError("half way")
    assert con.execute("select count(*) from t").fetchone()[0] == 0


def test_a_failed_statement_keeps_its_own_error(con):
    # DuckDB aborts the transaction on the error; the rollback must not hide it.
    with pytest.raises(duckdb.CatalogException), transaction(con):
        con.execute("insert into t values (1)")
        con.execute("insert into missing values (1)")
    assert con.execute("select count(*) from t").fetchone()[0] == 0
