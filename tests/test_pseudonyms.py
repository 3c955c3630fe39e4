"""Pseudonyms are HMAC-SHA256: the SQL form (DuckDB has no HMAC) equals Python's hmac."""

from __future__ import annotations

import hashlib
import hmac

import duckdb
import pytest
from privacy_pipeline.dbt_pseudonym_key import set_pseudonym_key
from privacy_pipeline.pseudonyms import hmac_sha256_sql, padded_keys, pseudonym

VALUES = ["+32470000001", "0470 12 34 56", "é", ""]


@pytest.mark.parametrize("key", ["k", "a-production-secret", "x" * 64, "long key " * 20])
def test_sql_and_python_give_the_rfc_2104_hmac(key):
    con = duckdb.connect()
    inner, outer = padded_keys(key)
    for value in VALUES:
        expected = hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()
        sql = hmac_sha256_sql("?", "cast(? as blob)", "cast(? as blob)")
        # parameters in the order they appear: outer key, inner key, value
        (found,) = con.execute(f"select {sql}", [outer, inner, value]).fetchone()
        assert found == expected == pseudonym(value, key)


def test_the_dbt_plugin_sets_the_padded_keys_never_the_key(monkeypatch):
    monkeypatch.setenv("PRIVACY_PIPELINE_PSEUDONYM_KEY", "plugin-key")
    con = duckdb.connect()
    set_pseudonym_key(con)
    names = {row[0] for row in con.execute("select name from duckdb_variables()").fetchall()}
    assert names == {"pseudonym_inner_key", "pseudonym_outer_key"}
    inner, outer = con.execute(
        "select getvariable('pseudonym_inner_key'), getvariable('pseudonym_outer_key')"
    ).fetchone()
    assert (inner, outer) == padded_keys("plugin-key") and b"plugin-key" not in inner + outer
    sql = hmac_sha256_sql(
        "'+32470000001'", "getvariable('pseudonym_inner_key')", "getvariable('pseudonym_outer_key')"
    )
    assert con.execute(f"select {sql}").fetchone()[0] == pseudonym("+32470000001", "plugin-key")


def test_an_empty_key_is_refused():
    with pytest.raises(ValueError, match="empty"):
        padded_keys("")
