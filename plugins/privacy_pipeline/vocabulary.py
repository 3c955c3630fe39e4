"""Closed vocabularies read generously: the one Python statement of the normalisation rule.

Landing values of the contract's closed lists (purposes, choices, channels, platforms,
answer kinds, ...), interests and site categories are compared after normalising:

1. Unicode NFKC, then case folding (``ＯＰＴ－ＯＵＴ`` and ``Opt-Out`` read alike), accents
   removed and look-alike letters of other scripts (Cyrillic ``о``) read as Latin;
2. every format character (zero-width space, joiners, word joiner, BOM, soft hyphen,
   bidi marks: Unicode category Cf) is removed, wherever it is;
3. every run of whitespace (any Unicode space, tab, line break, other control character),
   ``-`` or other dash, and ``_`` becomes one ``_``, and is dropped at the edges.

So ``opt-out``, ``OPT OUT``, ``opt_out\\t`` and ``opt\\u200b_out`` all read ``opt_out``.

A closed list's value is then matched by its letters and digits alone (``enum_term``): a
spelling whose letters and digits are those of one of the list's values is that value,
so ``OptOut``, ``optout``, ``opt.out`` and ``Opt-Out!`` are ``opt_out`` and
``DirectMarketing`` is ``direct_marketing`` (no two values of a list share their letters
and digits: a test checks).

The dbt models apply the same rule in SQL (macro ``normalised_term``, which calls
``nfkc_casefold`` below, registered by the dbt-duckdb plugin, for non-ASCII values only).
Every DuckDB connection the pipeline opens itself (the gates, the consent ledger's merge,
withdrawals from earlier publications, the run report) reads vocabularies with this
module instead, registered as SQL functions (``register_sql_functions``, then
``normalised_term_sql`` and ``customer_key_sql``): the gates so read landing values
generously without sharing the models' SQL, and a refusal written with accents or
look-alike letters reads the same everywhere. ``docs/data-contract.md`` describes the rule.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import unicodedata
from collections.abc import Iterable

import duckdb
import idna

SEPARATOR = "_"
# Unicode categories read as a separator: spaces, line and paragraph separators, control
# characters (tab, CR, LF, ...) and dashes; "_" is one too.
SEPARATOR_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Pd"})
INVISIBLE_CATEGORY = "Cf"

# What a normalised interest or site category may look like (else invalid_interest).
INTEREST_PATTERN = re.compile(r"[a-z0-9]+(_[a-z0-9]+)*")
# What an identifier may look like as delivered (else invalid_identifier): ASCII letters
# and digits, then also . _ : -, at most 128 characters. Nothing a spreadsheet reads as a
# formula (= + - @ first), no space, quote or control character.
IDENTIFIER_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")


# Letters of other scripts that look like the Latin letters of the vocabularies (after
# case folding): a refusal typed as "оpt_out" with a Cyrillic о is still a refusal, and
# "ѕех" is still a sensitive category. NFKC leaves them alone, so they are mapped here.
LOOKALIKES = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j",
        "к": "k", "ӏ": "l", "м": "m", "н": "h", "о": "o", "р": "p", "ԛ": "q", "с": "c",
        "ѕ": "s", "т": "t", "у": "y", "ԝ": "w", "х": "x", "ԁ": "d", "ɡ": "g",
        # Greek
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
        "σ": "c", "ϳ": "j",  # σ: the lunate sigma ϲ after NFKC
        # Armenian
        "օ": "o", "ս": "u", "հ": "h", "ո": "n", "ց": "g",
        # Cherokee (case folding keeps its capitals)
        "Ꭺ": "a", "Ᏼ": "b", "Ꮯ": "c", "Ꭼ": "e", "Ꮐ": "g", "Ꮋ": "h", "Ꭵ": "i", "Ꭻ": "j",
        "Ꮶ": "k", "Ꮮ": "l", "Ꮇ": "m", "Ꮲ": "p", "Ꮪ": "s", "Ꭲ": "t", "Ꮤ": "w", "Ꮓ": "z",
        # Latin letters without a decomposition
        "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŀ": "l", "ɑ": "a", "ɩ": "i",
    }
)  # fmt: skip


def nfc(value: str | None) -> str | None:
    """A text in Unicode NFC: the form of the texts published as delivered (area names;
    the models' macro ``nfc_normalized``, DuckDB's ``nfc_normalize``)."""
    return None if value is None else unicodedata.normalize("NFC", value)


# Not cached with functools: Spark's Python workers get this module's functions by value,
# and a cache wrapper would travel by reference, to a package the workers cannot import.
def newer_letter(char: str) -> str:
    """A character Python's Unicode tables do not know (3.11: Unicode 14), as IDNA's newer
    tables map it (UTS 46, the ``idna`` package): ``\U0001ccd6`` (OUTLINED LATIN CAPITAL
    LETTER A, Unicode 16) is ``a``, as browsers read it in a host. Unknown to both: as it is."""
    try:
        return idna.uts46_remap(char, std3_rules=False, transitional=False)
    except idna.IDNAError:
        return char


def nfkc_casefold(value: str | None) -> str | None:
    """NFKC, case folded, accents removed and look-alike letters of other scripts read as
    the Latin letter they imitate (``Öpt_Oüt``, ``оpt_out`` with a Cyrillic о), NFKC again.

    Every vocabulary is ASCII, so this only ever makes a value readable that would
    otherwise be quarantined: a refusal typed with an accent or a look-alike is honoured,
    a sensitive category written so is recognised. ASCII values are unchanged.
    """
    if value is None:
        return None
    if not value.isascii():
        value = "".join(newer_letter(c) if unicodedata.category(c) == "Cn" else c for c in value)
    folded = unicodedata.normalize("NFKC", value).casefold()
    decomposed = unicodedata.normalize("NFKD", folded)
    unaccented = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFKC", unaccented.translate(LOOKALIKES))


# Characters read as invisible besides format characters (Cf): the Hangul fillers (what
# NFKC leaves of U+3164 and U+FFA0) and the braille blank, letters that show nothing, and
# the Egyptian hieroglyph format controls, Cf since Unicode 15 (after Python 3.11's
# tables; DuckDB's \p{Cf} knows them, Java 17's, on Spark, does not: hence their range in
# INVISIBLE_PATTERN). The models' macro normalised_term removes INVISIBLE_PATTERN; a test
# compares both readings on every code point.
INVISIBLE_CHARACTERS = frozenset(["\u115f", "\u1160", "\u2800", *map(chr, range(0x13439, 0x13440))])
INVISIBLE_PATTERN = r"[\p{Cf}\x{115F}\x{1160}\x{2800}\x{13439}-\x{1343F}]"


def normalise_term(value: object) -> str | None:
    """A vocabulary value as it is compared: see the module docstring; None if empty."""
    if value is None:
        return None
    text = nfkc_casefold(str(value))
    out: list[str] = []
    pending_separator = False
    for char in text:
        category = unicodedata.category(char)
        if category == INVISIBLE_CATEGORY or char in INVISIBLE_CHARACTERS:
            continue
        if char == SEPARATOR or category in SEPARATOR_CATEGORIES:
            pending_separator = True
            continue
        if pending_separator and out:
            out.append(SEPARATOR)
        pending_separator = False
        out.append(char)
    return "".join(out) or None


def enum_key(term: str) -> str:
    """A normalised term's letters and digits: what a closed list's values are told apart by."""
    return re.sub(r"[^0-9a-z]", "", term)


def enum_term(value: object, values: Iterable[str]) -> str | None:
    """``value`` read as a value of the closed list ``values``: ``normalise_term``, then the
    one value with the same letters and digits, if any (``OptOut`` is ``opt_out``); else the
    normalised term, which the list does not hold."""
    term = normalise_term(value)
    if term is None or term in values:
        return term
    return next((v for v in values if enum_key(v) == enum_key(term)), term)


# A site or app name is read as the host it names, as browsers read a URL (WHATWG URL
# standard, for the special schemes). First every space and control character is read
# away (SITE_SPACE_PATTERN), wherever it is: browsers delete TAB, CR and LF anywhere in a
# URL, so "adult%2<TAB>Eexample" is an escape and "adult.example:4<TAB>43" a port, and
# "adult .example" is adult.example. After normalising, every _ (what is left of dashes
# and _ inside a name) is read away too, and ideographic full stops (IDNA's 。) read as
# dots; SITE_PREFIX_PATTERN then reads away a scheme (https://, //, and https: with no
# slash at all), user info up to the last @, leading dots (and a wildcard's *.) and a
# www. prefix, and SITE_SUFFIX_PATTERN trailing dots, a port (:443), a path, query or
# fragment. A backslash (\x5c) is a slash, as browsers read it. The models' macro
# site_key and the gates' landing_facts.site_key_sql use these patterns, written once
# more in the macro.
SITE_SPACE_PATTERN = r"[\pZ\p{Cc}]"
SITE_SPACE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc"})
SITE_PREFIX_PATTERN = (
    r"^(([a-z][a-z0-9+._-]*:)?[/\x5c]+|(https?|wss?|ftp):)?([^/?#\x5c]*@)?[*.]*(www[0-9]*[.])?"
)
SITE_SUFFIX_PATTERN = r"[.]*(:[0-9]*[.]*)?([/?#\x5c].*)?$"
IDEOGRAPHIC_FULL_STOP = "\u3002"


# Before that, a site name is read as a browser reads a host: its percent-escapes decoded
# (WHATWG URL host parsing: ``adult%2Eexample``, ``p%C3%B6rn.example``) and its punycode
# labels too (IDNA's ``xn--``: ``xn--prn-0na.example`` is ``pörn.example``, which reads as
# porn.example). An escape of a character that ends a host or its user info (/ ? # @ : \)
# stays as it is: decoded, it would move the host (``adult.example%40music.example`` would
# read as music.example), where a browser refuses the URL. So does a value whose escapes
# are not UTF-8, and a punycode label that does not decode to letters, digits and dashes.
# The models (macro decoded_site_spelling) and the gates (site_key_sql) call it as a SQL
# function for the values that are not ASCII or hold a % or an xn-- only.
HOST_DELIMITER_ESCAPES = frozenset({b"2f", b"3f", b"23", b"40", b"3a", b"5c"})
PERCENT_ESCAPE = re.compile(rb"%([0-9a-fA-F]{2})")
# A label of xn and two separators is one too (xn__prn_0na): _ and - are one separator
# in a site name (normalise_term), as they were for xn-- labels before decoding.
PUNYCODE_LABEL = re.compile(r"(?<![0-9A-Za-z_-])[xX][nN][-_]{2}[0-9A-Za-z_-]+")
PUNYCODE_MARK = "xn[-_]{2}"


def decoded_site_spelling(value: str | None) -> str | None:
    """``value`` with its percent-escapes and punycode labels decoded (see above), after
    width, case and invisible characters are read away (``nfkc_casefold``): ``％２Ｅ`` and
    ``%<U+200B>2E`` are escapes too, as every spelling that reads as ``%2E`` must be."""
    if value is None:
        return None
    # Read away again after the escapes: an escaped full-width or invisible character
    # (%EF%BD%98n--, x%E2%80%8Bn--) must not hide an xn-- label.
    text = readable_spelling(decoded_percent_escapes(readable_spelling(value)))
    return PUNYCODE_LABEL.sub(decoded_punycode_label, text)


def readable_spelling(text: str) -> str:
    """``nfkc_casefold`` without the invisible characters (separators kept as they are)."""
    return "".join(
        char
        for char in nfkc_casefold(text)
        if unicodedata.category(char) != INVISIBLE_CATEGORY and char not in INVISIBLE_CHARACTERS
    )


def decoded_percent_escapes(text: str) -> str:
    if "%" not in text:
        return text

    def byte(match: re.Match) -> bytes:
        escape = match.group(1).lower()
        return match.group(0) if escape in HOST_DELIMITER_ESCAPES else bytes([int(escape, 16)])

    try:
        return PERCENT_ESCAPE.sub(byte, text.encode("utf-8", "surrogatepass")).decode("utf-8")
    except UnicodeError:
        return text


def decoded_punycode_label(match: re.Match) -> str:
    label = match.group(0)
    try:
        decoded = label[4:].lower().replace("_", "-").encode("ascii").decode("punycode")
    except (UnicodeError, ValueError, IndexError):
        return label
    if not decoded or not all(c == "-" or unicodedata.category(c)[0] in "LMN" for c in decoded):
        return label
    return decoded


# A host that ends in a number is an IPv4 address however it is spelled, as browsers read
# it (WHATWG URL, IPv4 parser): 1572395042, 0x5db8d822, 0135.0270.0330.042 and 93.184.55330
# are all 93.184.216.34 (a part with 0x is hexadecimal, one with a leading 0 octal; the
# last part fills the bytes the others leave). A host of that shape that is no address
# (a part above 255, a number too large, an empty part) stays as it is.
IPV4_SPELLING = r"([0-9a-fx]*[.]){0,3}(0x[0-9a-f]*|[0-9]+)"
IPV4_PARTS = (
    (re.compile(r"0x([0-9a-f]*)"), 16),
    (re.compile(r"0([0-7]+)"), 8),
    (re.compile(r"(0|[1-9][0-9]*)"), 10),
)
# An IPv6 literal is one address however it is spelled: [2001:DB8:0:0::1], [2001:db8::1]
# and [2001:0db8::0001] are [2001:db8::1] (RFC 5952's form, which browsers write), and an
# IPv4-mapped one ([::ffff:93.184.216.34], [::ffff:5db8:d822]) is the IPv4 address it maps.
# A catalogue may write it bare (2001:db8::1): a name of hex digits, dots and two colons
# or more is no host:port, so it is bracketed before the port is read away
# (BARE_IPV6_SPELLING). The models and the gates call ip_address_host, as a SQL function,
# for the hosts of IP_ADDRESS_SPELLING only.
BARE_IPV6_SPELLING = r"^([0-9a-f.]*:[0-9a-f.]*:[0-9a-f:.]*)$"
BRACKETED_HOST = r"[\1]"
IP_ADDRESS_SPELLING = rf"^({IPV4_SPELLING}|\[[0-9a-f:.]*\])$"


def ip_address_host(host: str | None) -> str | None:
    """``host`` as the address it spells (see above), else as it is."""
    if host is None:
        return None
    if not host.startswith("["):
        return ipv4_dotted(host)
    try:
        address = ipaddress.IPv6Address(host[1:-1])
    except ValueError:
        return host
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return f"[{address.compressed}]"


def ipv4_dotted(host: str) -> str:
    """``host`` in dotted decimal if it spells an IPv4 address, else as it is."""
    parts = host.split(".")
    numbers = [ipv4_number(part) for part in parts]
    if len(parts) > 4 or None in numbers or any(n > 255 for n in numbers[:-1]):
        return host
    if numbers[-1] >= 256 ** (5 - len(numbers)):
        return host
    address = numbers[-1] + sum(n << (8 * (3 - i)) for i, n in enumerate(numbers[:-1]))
    return ".".join(str(address >> shift & 255) for shift in (24, 16, 8, 0))


def ipv4_number(part: str) -> int | None:
    for pattern, base in IPV4_PARTS:
        match = pattern.fullmatch(part)
        if match:
            return int(match.group(1) or "0", base)
    return None


def site_key(value: object) -> str | None:
    """A site or app name as traffic meets the catalogue: without spaces and control
    characters (``SITE_SPACE_PATTERN``), ``decoded_site_spelling``, ``normalise_term``
    without its ``_``, then the host it names (``SITE_PREFIX_PATTERN``,
    ``SITE_SUFFIX_PATTERN``), an IP address in one spelling (``ip_address_host``):
    ``https://user@WWW.Adult .Example:443/path``, ``adult%2Eexample`` and
    ``adult.example`` share the key ``adult.example``; None if nothing is left."""
    if value is None:
        return None
    term = normalise_term(decoded_site_spelling(without_site_spaces(str(value))))
    if not term:
        return None
    dotted = term.replace(IDEOGRAPHIC_FULL_STOP, ".").replace(SEPARATOR, "")
    host = re.sub(SITE_PREFIX_PATTERN, "", dotted, count=1)
    host = re.sub(SITE_SUFFIX_PATTERN, "", re.sub(BARE_IPV6_SPELLING, BRACKETED_HOST, host))
    if re.fullmatch(IP_ADDRESS_SPELLING, host):
        host = ip_address_host(host)
    return host or None


def without_site_spaces(text: str) -> str:
    """``text`` without the characters of ``SITE_SPACE_PATTERN``."""
    return "".join(c for c in text if unicodedata.category(c) not in SITE_SPACE_CATEGORIES)


def identifier_match_key(value: object) -> str | None:
    """A customer number as a refusal letter may write it: normalised, separators removed
    (``c-001``, ``C 001`` and ``C001`` share the key ``c001``)."""
    term = normalise_term(value)
    return term.replace(SEPARATOR, "") if term else None


def is_safe_identifier(value: object) -> bool:
    return value is not None and IDENTIFIER_PATTERN.fullmatch(str(value)) is not None


def sensitive_terms(categories: dict[str, Iterable[str]]) -> list[str]:
    """Every stem of the configured sensitive categories (config ``sensitive_categories``:
    category -> its other spellings), the category names included, normalised."""
    terms = set()
    for category, spellings in categories.items():
        for term in (category, *(spellings or ())):
            normalised = normalise_term(term)
            if normalised:
                terms.add(normalised)
    return sorted(terms)


def is_sensitive(value: object, terms: Iterable[str]) -> bool:
    """True when the normalised value, or one of its ``_``-separated words, starts with a
    sensitive term (``politics``, ``Political news``, ``adult_content``, ``porn``...)."""
    term = normalise_term(value)
    if not term:
        return False
    words = term.split(SEPARATOR)
    starts = {SEPARATOR.join(words[i:]) for i in range(len(words))}
    return any(start.startswith(stem) for stem in terms for start in starts)


# ---------------------------------------------------------------- as SQL, on a connection

# SQL function names (kept from their first users, the gates: registering them again on a
# connection is then a no-op).
NORMALISED_TERM_FUNCTION = "gate_normalised_term"
MATCH_KEY_FUNCTION = "gate_identifier_match_key"
DECODED_SITE_FUNCTION = "gate_decoded_site_spelling"
IP_ADDRESS_FUNCTION = "gate_ip_address_host"


def register_sql_functions(con: duckdb.DuckDBPyConnection) -> None:
    """Register ``normalise_term``, ``identifier_match_key``, ``decoded_site_spelling`` and
    ``ip_address_host`` on ``con``, for the SQL of ``normalised_term_sql``, ``customer_key_sql``,
    ``decoded_site_spelling_sql`` and the gates' ``site_key_sql``."""
    functions = (
        (NORMALISED_TERM_FUNCTION, normalise_term),
        (MATCH_KEY_FUNCTION, identifier_match_key),
        (DECODED_SITE_FUNCTION, decoded_site_spelling),
        (IP_ADDRESS_FUNCTION, ip_address_host),
    )
    for name, function in functions:
        # Another caller may have registered it on the same database in this process: same rule.
        with contextlib.suppress(duckdb.CatalogException):
            # "special": a value the rule reads as nothing (a lone BOM or NUL) gives null,
            # which DuckDB's default null handling would turn into an error.
            con.create_function(
                name,
                function,
                ["VARCHAR"],
                "VARCHAR",
                side_effects=False,
                null_handling="special",
            )


def normalised_term_sql(expr: str) -> str:
    """SQL reading the text ``expr`` as ``normalise_term`` does (needs
    ``register_sql_functions``). A value already in normal form skips the Python call."""
    return f"""(case when regexp_full_match({expr}, '{INTEREST_PATTERN.pattern}') then {expr}
                else {NORMALISED_TERM_FUNCTION}({expr}) end)"""


def enum_term_sql(expr: str, values: Iterable[str]) -> str:
    """SQL reading the text ``expr`` as ``enum_term`` does, for the closed list ``values``
    (needs ``register_sql_functions``)."""
    term = normalised_term_sql(expr)
    cases = " ".join(f"when '{enum_key(value)}' then '{value}'" for value in values)
    return f"coalesce(case regexp_replace({term}, '[^0-9a-z]', '', 'g') {cases} end, {term})"


def decoded_site_spelling_sql(expr: str) -> str:
    """SQL reading the text ``expr`` as ``decoded_site_spelling`` does (needs
    ``register_sql_functions``). An ASCII value without % or xn-- (or xn__) (nearly all) skips the
    call: for it the function only lowers the case, as the normalisation after it does."""
    return f"""(case when strlen({expr}) <> length({expr}) or position('%' in {expr}) > 0
                or regexp_matches(lower({expr}), '{PUNYCODE_MARK}')
                then {DECODED_SITE_FUNCTION}({expr}) else {expr} end)"""


def customer_key_sql(expr: str) -> str:
    """SQL of a customer number matched as generously as a removal may be: its
    ``identifier_match_key`` with every other character but letters and digits dropped too
    (``C-001``, ``c.001``, ``С001`` with a Cyrillic С all give ``c001``). Needs
    ``register_sql_functions``; ASCII values (nearly all) skip the Python call, since for
    them the match key is the value in lower case without separators."""
    folded = f"""(case when regexp_full_match({expr}, '[\\x00-\\x7f]*') then lower({expr})
                 else {MATCH_KEY_FUNCTION}({expr}) end)"""
    return f"regexp_replace({folded}, '[^0-9a-z]', '', 'g')"
