"""Keyed pseudonyms of direct identifiers: HMAC-SHA256 (RFC 2104), hex.

DuckDB has no HMAC function, so SQL computes it from its definition,
``H((K ^ opad) || H((K ^ ipad) || message))``, with the two padded keys handed to DuckDB
as session variables (dbt, ``privacy_pipeline.dbt_pseudonym_key``) or bound parameters
(the gates): the key itself never appears in SQL text, compiled files or logs. Python
(``pseudonym``) gives the same value, for tests and checks.
"""

from __future__ import annotations

import hashlib
import hmac

from privacy_pipeline.config import pseudonym_key

BLOCK_SIZE = 64  # bytes, SHA-256's block


def padded_keys(key: str | None = None) -> tuple[bytes, bytes]:
    """(key ^ ipad, key ^ opad) for ``key`` (default: the configured pseudonym key)."""
    secret = (pseudonym_key() if key is None else key).encode()
    if not secret:
        raise ValueError("PRIVACY_PIPELINE_PSEUDONYM_KEY is empty: refusing to pseudonymise")
    if len(secret) > BLOCK_SIZE:
        secret = hashlib.sha256(secret).digest()
    secret = secret.ljust(BLOCK_SIZE, b"\0")
    return bytes(b ^ 0x36 for b in secret), bytes(b ^ 0x5C for b in secret)


def hmac_sha256_sql(value: str, inner_key: str, outer_key: str) -> str:
    """SQL for the hex HMAC of the text ``value``, given SQL for the two padded keys."""
    return f"sha256({outer_key} || unhex(sha256({inner_key} || encode({value}))))"


def pseudonym(value: str, key: str | None = None) -> str:
    """The pseudonym staging gives ``value`` (the same as the SQL above)."""
    secret = pseudonym_key() if key is None else key
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()
