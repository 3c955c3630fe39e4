"""Closed vocabularies read generously (privacy_pipeline.vocabulary) and their configuration.

Pure functions: no dbt, no DuckDB file. The staging tests (tests/test_staging.py) check the
SQL twin (macro normalised_term) on the same kinds of values through dbt.
"""

from __future__ import annotations

import copy
import unicodedata
from pathlib import Path

import duckdb
import pytest
import yaml
from privacy_pipeline.config import allowed_interests, load_config, sensitive_categories
from privacy_pipeline.contract import CHOICES, PURPOSES, TABLE_NAMES
from privacy_pipeline.contract import table as contract_table
from privacy_pipeline.dbt_pseudonym_key import register_model_functions
from privacy_pipeline.errors import ConfigError
from privacy_pipeline.gates.landing_facts import site_key_sql
from privacy_pipeline.vocabulary import (
    BARE_IPV6_SPELLING,
    BRACKETED_HOST,
    IDEOGRAPHIC_FULL_STOP,
    INVISIBLE_CHARACTERS,
    INVISIBLE_PATTERN,
    IP_ADDRESS_SPELLING,
    PUNYCODE_MARK,
    SITE_PREFIX_PATTERN,
    SITE_SPACE_PATTERN,
    SITE_SUFFIX_PATTERN,
    enum_key,
    enum_term,
    enum_term_sql,
    identifier_match_key,
    is_safe_identifier,
    is_sensitive,
    normalise_term,
    register_sql_functions,
    sensitive_terms,
    site_key,
)

ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
SPACES = [" ", "\t", "\n", "\r", "\u00a0", "\u2003", "\u3000", "\x0b"]


REFUSAL_SPELLINGS = [
    "opt_out", "opt-out", "OPT OUT", "opt_out\t", " Opt_Out ", "opt \u2013 out", "ＯＰＴ＿ＯＵＴ",
     "opt__out", "-opt-out-", *[f"opt{z}_out{z}" for z in ZERO_WIDTH],
     # accents and look-alike letters of other scripts (Cyrillic о, р, т; Greek ο)
     "Öpt-Oüt", "ôpt_out", "\u043ept_out", "\u041e\u0420\u0422 \u041e\u0055\u0422",
     "opt_\u03bfut",
     *[f"{s}opt{s}out{s}" for s in SPACES],
]  # fmt: skip


@pytest.mark.parametrize("value", REFUSAL_SPELLINGS)
def test_every_spelling_of_a_refusal_reads_opt_out(value):
    assert normalise_term(value) == "opt_out"


@pytest.mark.parametrize(
    ("value", "values", "read"),
    [
        *[(v, CHOICES, "opt_out") for v in ("OptOut", "optout", "opt.out", "Opt-Out!",
                                            "opt/out", "opt_out.", *REFUSAL_SPELLINGS)],
        ("OPTIN", CHOICES, "opt_in"),
        ("DirectMarketing", PURPOSES, "direct_marketing"),
        ("LocationAnalytics", PURPOSES, "location_analytics"),
        ("direct marketing!", PURPOSES, "direct_marketing"),
        ("opt_in_out", CHOICES, "opt_in_out"),  # no value's letters: as normalised
        ("no", CHOICES, "no"),
        (None, CHOICES, None),
    ],
)  # fmt: skip
def test_a_closed_list_is_read_by_letters_and_digits_in_python_and_sql(value, values, read):
    """helper-41: a refusal written OptOut was quarantined as an unknown choice, and the
    customer stayed in the marketing tables."""
    assert enum_term(value, values) == read
    connection = duckdb.connect()
    register_sql_functions(connection)
    sql = enum_term_sql("value", values)
    assert (
        connection.execute(f"select {sql} from (select ?::varchar as value)", [value]).fetchone()[0]
        == read
    )


def test_no_two_values_of_a_closed_list_share_their_letters_and_digits():
    for name in TABLE_NAMES:
        for column in contract_table(name).columns:
            keys = [enum_key(value) for value in column.values]
            assert len(set(keys)) == len(keys), (name, column.name)


def test_normalising_keeps_what_matters_and_empties_to_none():
    assert normalise_term("Direct Marketing") == "direct_marketing"
    assert normalise_term("rating 1-5") == "rating_1_5"
    assert normalise_term("ﬁnance") == "finance"  # NFKC: the ligature is two letters
    assert normalise_term("Straße") == "strasse"  # case folding, not only lower-casing
    assert normalise_term("optout") == "optout"  # words are not invented
    assert normalise_term(" \t\u200b ") is None and normalise_term(None) is None


@pytest.fixture(scope="module")
def terms():
    return sensitive_terms(load_config()["sensitive_categories"])


@pytest.mark.parametrize(
    "value",
    ["political", "politics", "Political News", "POLITICIAN", "religion", "Religious",
     "reli\u200bgion", "adult", " ADULT\t", "adult_content", "porn", "PORNO", "sex",
     "sexual", "erotic-stories", "ｐｏｒｎ", "church", "election",
     # accents and look-alikes: Religión, élections, Cyrillic ѕех, Greek-o pοrn
     "Religión", "élections", "\u0455\u0435\u0445", "p\u03bfrn"],
)  # fmt: skip
def test_sensitive_categories_in_any_spelling(value, terms):
    assert is_sensitive(value, terms)


@pytest.mark.parametrize("value", ["music", "gaming", "news", "sport", "home_office", None, ""])
def test_ordinary_interests_are_not_sensitive(value, terms):
    assert not is_sensitive(value, terms)


def test_customer_numbers_match_without_case_spaces_and_separators():
    keys = {identifier_match_key(v) for v in ["C001", "c001", "C-001", " c 0 0 1\t", "C_001"]}
    assert keys == {"c001"}
    assert identifier_match_key("C002") != identifier_match_key("C001")


@pytest.mark.parametrize("value", ["C001", "CELL-A1", "X_NO_OFFSET", "2026.06:01", "PT01", "42"])
def test_safe_identifiers(value):
    assert is_safe_identifier(value)


@pytest.mark.parametrize(
    "value",
    ['=HYPERLINK("http://x","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "C 001", "C001\t",
     "a\"b", "x" * 129, "", "Ｃ001", "C\u200b001", None],
)  # fmt: skip
def test_unsafe_identifiers(value):
    assert not is_safe_identifier(value)


def test_the_models_functions_are_registered_once_per_database():
    con = duckdb.connect()
    register_model_functions(con)
    register_model_functions(con.cursor())
    assert con.execute("select nfkc_casefold('ＯＰＴ Straße')").fetchall() == [("opt strasse",)]
    assert con.execute("select decoded_site_spelling('a%2Eb')").fetchall() == [("a.b",)]
    assert con.execute("select ip_address_host('1572395042')").fetchall() == [("93.184.216.34",)]


def test_the_ledger_merge_and_the_withdrawals_read_refusals_with_this_rule():
    """The SQL the pipeline runs itself (consent ledger merge, withdrawals from earlier
    publications) reads every spelling as normalise_term does: accents and look-alike
    letters included, where a lower-case-and-separators reading missed them."""
    from privacy_pipeline.consent_ledger import canonical
    from privacy_pipeline.vocabulary import register_sql_functions
    from privacy_pipeline.withdrawal import customer_key, vocabulary

    con = duckdb.connect()
    register_sql_functions(con)
    con.execute("create table spellings (choice varchar)")
    spellings = [*REFUSAL_SPELLINGS, "OptOut", "opt.out"]
    con.executemany("insert into spellings values (?)", [[v] for v in spellings])
    read = con.execute(
        f"select distinct {vocabulary('choice', CHOICES)}, {canonical('choice')} from spellings"
    ).fetchall()
    assert read == [("opt_out", "opt_out")]
    # A purpose with a Cyrillic i, an accent, another dash: the same purpose everywhere.
    purpose = "D\u0456rect \u2013 Market\u00edng"
    assert normalise_term(purpose) == "direct_marketing"
    one = "from (select cast(? as varchar) as v) as t"
    assert con.execute(f"select {vocabulary('v', PURPOSES)} {one}", [purpose]).fetchone() == (
        "direct_marketing",
    )
    # Customer numbers: as generous as identifier_match_key, punctuation ignored too.
    keys = con.execute(
        f"select distinct {customer_key('customer_id')} from (values ('C001'), ('c-001'), "
        "('c.001'), (' C 001 '), ('\u0421001'), ('Ｃ００１')) as t(customer_id)"
    ).fetchall()
    assert keys == [("c001",)]
    assert con.execute(f"select {customer_key('v')} {one}", ["C002"]).fetchone() == ("c002",)


# ---------------------------------------------------------------- configuration


def test_the_letters_categories_cannot_be_removed():
    with pytest.raises(ConfigError, match="political"):
        sensitive_categories({"sexual": [], "religious": []})
    assert sensitive_categories(["sexual", "religious", "political"])["political"] == []


def test_configured_terms_must_be_normalised_terms():
    with pytest.raises(ConfigError, match="sensitive_categories.sexual"):
        sensitive_categories({"sexual": ["a|b"], "religious": [], "political": []})
    assert sensitive_categories({"Sexual": ["Adult Content"], "religious": [], "political": []})[
        "sexual"
    ] == ["adult_content"]


def test_the_allow_list_refuses_sensitive_interests_and_unknown_rule_interests():
    config = copy.deepcopy(load_config())
    config["allowed_interests"] = [*config["allowed_interests"], "Politics"]
    with pytest.raises(ConfigError, match="politics"):
        allowed_interests(config)
    config = copy.deepcopy(load_config())
    config["allowed_interests"] = [i for i in config["allowed_interests"] if i != "gaming"]
    with pytest.raises(ConfigError, match="gaming"):
        allowed_interests(config)
    config["allowed_interests"] = []
    with pytest.raises(ConfigError, match="allowed_interests"):
        allowed_interests(config)


# ---------------------------------------------------------------- the gates' own reading


def test_the_gates_read_the_ledger_generously_with_their_own_code(tmp_path):
    from privacy_pipeline.gates.candidate import Candidate
    from privacy_pipeline.gates.landing_facts import ledger
    from privacy_pipeline.landing import record_run_context
    from privacy_pipeline.run_context import RunContext

    con = duckdb.connect()
    con.execute("create schema landing")
    # The processing instant, as the loader records it: a time after it cannot be true.
    run = RunContext.create(
        tmp_path, tmp_path, "2026-06-20", reads_data=False, processed_at="2026-06-21T01:00:00Z"
    )
    record_run_context(con, run)
    con.execute(
        "create table landing.customers as "
        "select * from (values ('C001'), ('AB-1'), ('AB_1')) as t(customer_id)"
    )
    at, received = "2026-05-01T10:00:00Z", "timestamptz '2026-06-21 01:00:00+00'"
    con.execute(
        f"""create table landing.privacy_preferences as select * from (values
            ('E1', 'c-001', 'Direct Marketing', 'OPT OUT', 'Letter', 'proximus', '{at}',
             {received}),
            ('E2', 'c001', 'partner_offers', 'opt_in', 'letter', 'proximus', '{at}',
             {received}),
            ('E3', 'ab 1', 'direct_marketing', 'opt' || chr(8203) || '-out', 'email',
             'PROXIMUS', '{at}', {received}),
            ('E4', 'C001', 'Partner Offers', 'Opt-In', 'EMAIL', 'proximus',
             '2099-01-01T10:00:00Z', {received})
        ) as t(event_id, customer_id, purpose, choice, channel, platform, recorded_at,
               _first_received_at)"""
    )
    candidate = Candidate.__new__(Candidate)  # only the connection and the caches are used
    candidate.con, candidate.cache, candidate.materialised_from = con, {}, {}
    rows = con.execute(
        f"select event_id, customer_id, purpose, choice, platform, is_valid "
        f"from {ledger(candidate)} order by event_id"
    ).fetchall()
    assert rows == [
        ("E1", "C001", "direct_marketing", "opt_out", "proximus", True),  # matched generously
        ("E2", "c001", "partner_offers", "opt_in", "proximus", True),  # a consent: exact only
        ("E3", "ab 1", "direct_marketing", "opt_out", "proximus", True),  # two customers: no
        ("E4", "C001", "partner_offers", "opt_in", "proximus", False),  # after the run
    ]

    # Without the processing instant the gate cannot tell a true time: it errors, never passes.
    con.execute("drop table landing.run_context")
    candidate.cache.pop("gate_ledger")
    with pytest.raises(duckdb.CatalogException, match="run_context"):
        ledger(candidate)


def test_a_partial_configuration_keeps_the_shipped_spellings_and_allow_list(tmp_path):
    shipped = load_config()
    path = tmp_path / "pipeline.yml"
    partial = copy.deepcopy(shipped)
    partial["sensitive_categories"] = ["sexual", "religious", "political", "gambling"]
    del partial["allowed_interests"]
    path.write_text(yaml.safe_dump(partial), encoding="utf-8")
    config = load_config(path)
    assert config["allowed_interests"] == shipped["allowed_interests"]
    assert config["sensitive_categories"]["gambling"] == []
    for category, spellings in shipped["sensitive_categories"].items():
        assert set(spellings) <= set(config["sensitive_categories"][category])


def test_the_models_read_sites_with_the_gates_pattern():
    """The macro site_key (models) and vocabulary.site_key (gates) read the same host: the
    patterns are written twice, in SQL and in Python, and must not drift."""
    macros = Path(__file__).resolve().parents[1] / "dbt_project/macros/staging/vocabulary.sql"
    text = macros.read_text(encoding="utf-8")
    patterns = (SITE_PREFIX_PATTERN, BARE_IPV6_SPELLING, BRACKETED_HOST, SITE_SUFFIX_PATTERN)
    for pattern in (
        *patterns,
        SITE_SPACE_PATTERN,
        IDEOGRAPHIC_FULL_STOP,
        IP_ADDRESS_SPELLING,
        PUNYCODE_MARK,
    ):
        # a Jinja string literal: each backslash written twice
        assert "'" + pattern.replace("\\", "\\\\") + "'" in text


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("adult.example", "adult.example"),
        ("https://WWW.Adult.Example/", "adult.example"),
        ("adult.example:443", "adult.example"),
        ("ADULT.EXAMPLE/path", "adult.example"),
        ("https://user:pw@adult.example.:8080./x?y=1#z", "adult.example"),
        ("adult\u3002example", "adult.example"),
        ("adult\uff0eexample", "adult.example"),
        ("adult\uff61example", "adult.example"),
        ("adult .example", "adult.example"),
        (".adult.example", "adult.example"),
        ("m.adult.example", "m.adult.example"),
        ("android-app://com.spotify.music/x", "com.spotify.music"),
        ("10.0.0.1:80", "10.0.0.1"),
        ("Candy Crush", "candycrush"),
        ("www.", None),
        ("/path", "path"),
        ("https:\\\\adult.example", "adult.example"),
        ("https:adult.example", "adult.example"),
        ("https:/\\adult.example", "adult.example"),
        ("//adult.example/x", "adult.example"),
        ("a@b@adult.example", "adult.example"),
        ("adult.example\\music", "adult.example"),
        ("HTTPS:\\\\WWW.adult.example", "adult.example"),
        ("*.adult.example", "adult.example"),
        ("\u0251dult.example", "adult.example"),
        ("\u13aadult.example", "adult.example"),
        ("\u03f2hurch.example", "church.example"),
        ("adult\u3164.example", "adult.example"),
        ("adult\uffa0.example", "adult.example"),
        ("adult\u2800.example", "adult.example"),
        # percent-escapes and punycode labels, decoded as browsers read a host
        ("adult%2Eexample", "adult.example"),
        ("https://xn--prn-0na.example/x", "porn.example"),
        ("XN--PRN-0NA.EXAMPLE", "porn.example"),
        ("p%C3%B6rn.example", "porn.example"),
        ("xn--80ak6aa92e.com", "apple.com"),  # Cyrillic look-alikes, then folded
        ("https://user%40x@adult%2eexample:443/", "adult.example"),
        # an escaped @ or / would move the host: it stays escaped (a browser refuses it)
        ("adult.example%40music.example", "adult.example%40music.example"),
        ("adult.example%2Fmusic.example", "adult.example%2fmusic.example"),
        ("%ff%fe.example", "%ff%fe.example"),  # not UTF-8: as delivered
        ("adult%252eexample", "adult%2eexample"),  # decoded once, as browsers do
        # what reads as an escape or a punycode label is one: width, case, invisible marks
        ("adult\uff05\uff12\uff25example", "adult.example"),
        ("adult%\u200b2Eexample", "adult.example"),
        ("\uff58\uff4e\uff0d\uff0dprn-0na.example", "porn.example"),
        # ... also when the full-width or invisible character is itself escaped (helper-40)
        ("%EF%BD%98n--prn-0na.example", "porn.example"),
        ("x%E2%80%8Bn--prn-0na.example", "porn.example"),
        ("xn--p%E2%80%8Brn-0na.example", "porn.example"),
        ("xn__prn_0na.example", "porn.example"),  # _ and - are one separator
        ("XN-_PRN-0NA.EXAMPLE", "porn.example"),
        ("xn--zz.example", "xnzz.example"),  # not punycode: as delivered
        ("abcxn--prn-0na.example", "abcxnprn0na.example"),  # not a label of its own
        # a host ending in a number is an IPv4 address however it is spelled
        ("1572395042", "93.184.216.34"),
        ("http://0x5DB8D822:80/x", "93.184.216.34"),
        ("0135.0270.0330.042", "93.184.216.34"),
        ("93.184.55330", "93.184.216.34"),
        ("0", "0.0.0.0"),
        ("256.1.1.1", "256.1.1.1"),  # not an address: as it is
        ("08.1.1.1", "08.1.1.1"),  # 08 is no octal number
        ("99999999999", "99999999999"),
        ("1.2.3.4.5", "1.2.3.4.5"),
        ("cafe.0x1", "cafe.0x1"),
        # an IPv6 literal is one address however it is spelled (helper-40)
        ("[2001:DB8:0:0::1]", "[2001:db8::1]"),
        ("https://[2001:0db8:0000::0001]:443/x", "[2001:db8::1]"),
        ("[2001:db8:0:0:0:0:0:1]", "[2001:db8::1]"),
        ("2001:db8::1", "[2001:db8::1]"),  # bare, as a catalogue may write it
        ("2001:DB8::0:1", "[2001:db8::1]"),
        ("\uff3b2001\uff1adb8\uff1a\uff1a1\uff3d", "[2001:db8::1]"),  # full width
        ("[2001%3Adb8::1]", "[2001%3adb8::1]"),  # an escaped : stays escaped
        ("[::ffff:93.184.216.34]", "93.184.216.34"),  # IPv4-mapped: the IPv4 address
        ("[::FFFF:5db8:d822]", "93.184.216.34"),
        ("[1:2:3:4:5:6:7:8:9]", "[1:2:3:4:5:6:7:8:9]"),  # not an address: as it is
        ("1:2:3", "[1:2:3]"),
        ("adult.example:443", "adult.example"),
        # helper-41: spaces and control characters go first, as browsers delete TAB and LF
        ("adult%2\tEexample", "adult.example"),
        ("x\tn--prn-0na.example", "porn.example"),
        ("adult.example:4\t43", "adult.example"),
        ("adult.example.\t:443", "adult.example"),
        ("https:\t//adult.example", "adult.example"),
        ("https: //adult.example", "adult.example"),
        ("https:\n//adult.\r\nexample", "adult.example"),
        # ... a punycode label with marks decodes (IDNA allows letters, marks, digits)
        ("xn--porn-ywc.example", "porn.example"),  # porn + U+0308
        ("xn--11b3eb2d5a.example", site_key("\u0938\u0947\u0915\u094d\u0938.example")),
        # ... and letters newer than Python's tables read as IDNA's tables read them
        ("\U0001ccd6dult.example", "adult.example"),  # outlined A, Unicode 16
    ],
)
def test_a_site_reads_as_the_host_it_names_in_python_and_in_the_gates_sql(spelling, key):
    assert site_key(spelling) == key
    connection = duckdb.connect()
    register_sql_functions(connection)
    sql = site_key_sql("spelling")
    assert (
        connection.execute(f"select {sql} from (select ? as spelling)", [spelling]).fetchone()[0]
        == key
    )


def test_python_and_the_models_regex_remove_the_same_format_characters():
    """The gates read vocabularies with Python's Unicode tables, the models with DuckDB's
    regular expression (``INVISIBLE_PATTERN``): every code point one of them reads as
    invisible, the other does too (a site name with U+13439, Cf only since Unicode 15, was
    two sites: exit 1)."""
    code_points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    removed_by_duckdb = {
        row[0]
        for row in duckdb.sql(
            "select c from (select unnest(?) as c) where regexp_matches(chr(c), ?)",
            params=[code_points, INVISIBLE_PATTERN],
        ).fetchall()
    }
    removed_by_python = {c for c in code_points if normalise_term(f"a{chr(c)}b") == "ab"}
    assert removed_by_duckdb <= removed_by_python
    python_invisible = {
        c
        for c in code_points
        if unicodedata.category(chr(c)) == "Cf" or chr(c) in INVISIBLE_CHARACTERS
    }
    assert python_invisible <= removed_by_duckdb
    macros = Path(__file__).resolve().parents[1] / "dbt_project/macros/staging/vocabulary.sql"
    assert "'" + INVISIBLE_PATTERN.replace("\\", "\\\\") + "'" in macros.read_text(encoding="utf-8")
