{#- Closed vocabularies read generously, identifiers in a safe format: the SQL home of
    the rule stated in privacy_pipeline/vocabulary.py (docs/data-contract.md).

    normalised_term(expr): Unicode NFKC and case folding; invisible characters (zero-width
    space and joiners, word joiner, BOM, soft hyphen: category Cf; the Hangul fillers and
    the braille blank: privacy_pipeline.vocabulary.INVISIBLE_PATTERN) removed; every run of
    whitespace, control characters, dashes and _ made one _, none at the edges; empty =
    null. "OPT OUT", "opt-out", "opt_out<tab>" and "opt<U+200B>_out" all read opt_out.
    DuckDB has NFC but no NFKC: non-ASCII values go through nfkc_casefold(), a function
    the dbt-duckdb plugin privacy_pipeline.dbt_pseudonym_key registers (Python's
    unicodedata); ASCII values, nearly all of them, need no call (NFKC leaves ASCII as
    it is, and lower() is case folding there). Used in base staging tables only, so the
    views and marts never need the function.
    (Trino: lower(normalize(x, NFKC)); Spark: a UDF; both support the \p{..} classes.)
-#}
{% macro nfkc_casefolded(expr) -%}
    case when {{ byte_length(expr) }} = length({{ expr }}) then {{ expr }} else nfkc_casefold({{ expr }}) end
{%- endmacro %}

{#- A text in Unicode NFC, for the texts published as delivered (area names): "Liège"
    typed as e + combining grave accent and "Liège" are one area, not two. Nothing is
    lost (NFC only composes what is canonically the same); ASCII values need no call.
    DuckDB has nfc_normalize built in; the Spark engine registers a UDF of that name
    (privacy_pipeline.vocabulary.nfc). -#}
{% macro nfc_normalized(expr) -%}
    case when {{ byte_length(expr) }} = length({{ expr }}) then {{ expr }} else nfc_normalize({{ expr }}) end
{%- endmacro %}

{#- Bytes of a text in UTF-8 (equal to its length in characters for ASCII). -#}
{% macro byte_length(expr) -%}
    {{ return(adapter.dispatch('byte_length')(expr)) }}
{%- endmacro %}
{% macro duckdb__byte_length(expr) -%}strlen({{ expr }}){%- endmacro %}
{% macro spark__byte_length(expr) -%}octet_length({{ expr }}){%- endmacro %}

{% macro normalised_term(expr) -%}
    nullif({{ replace_pattern(replace_pattern(replace_pattern(
        'lower(' ~ nfkc_casefolded(expr) ~ ')',
        '[\\p{Cf}\\x{115F}\\x{1160}\\x{2800}\\x{13439}-\\x{1343F}]', ''),
        '[\\pZ\\p{Cc}\\p{Pd}_]+', '_'),
        '^_|_$', '') }}, '')
{%- endmacro %}

{#- A site name as browsers read a host: percent-escapes and punycode labels decoded
    ("adult%2Eexample", "xn--prn-0na.example" for pörn.example), by the function
    decoded_site_spelling (privacy_pipeline.vocabulary, registered by the dbt-duckdb plugin
    and the Spark engine) for the names that are not ASCII (％２Ｅ is an escape too) or
    hold a % or an xn-- (or xn__: _ and - are one separator); for the other names it would only lower the case. -#}
{% macro decoded_site_spelling(expr) -%}
    case when {{ byte_length(expr) }} <> length({{ expr }}) or position('%' in {{ expr }}) > 0
        or {{ matches_pattern('lower(' ~ expr ~ ')', 'xn[-_]{2}') }}
        then decoded_site_spelling({{ expr }}) else {{ expr }} end
{%- endmacro %}

{#- A site or app name as traffic meets the catalogue: without spaces and control
    characters (browsers delete TAB and LF anywhere in a URL), decoded (above), normalised
    without its _ (dashes and _ inside the name), then the host it names
    (privacy_pipeline.vocabulary.site_key, whose patterns these are):
    ideographic full stops read as dots; no scheme, user info, leading dots (a wildcard's
    *.) or www. prefix; a bare IPv6 address bracketed, so that its last part is no port;
    no trailing dots, port, path, query or fragment (a backslash is a slash, and https:
    needs no //, as in browsers); an IP
    address in one spelling (function ip_address_host, for hosts that end in a number or
    are bracketed: 1572395042 is 93.184.216.34, [2001:DB8:0::1] is [2001:db8::1]).
    "https://user@WWW.Adult.Example:443/path" and "adult。example" are adult.example. -#}
{% macro site_key(expr) -%}
    {%- set spelled = replace_pattern(expr, '[\\pZ\\p{Cc}]', '') -%}
    {%- set host = replace_pattern(replace_pattern(replace_pattern(
        'replace(replace(' ~ normalised_term(decoded_site_spelling(spelled)) ~ ", '。', '.'), '_', '')",
        '^(([a-z][a-z0-9+._-]*:)?[/\\x5c]+|(https?|wss?|ftp):)?([^/?#\\x5c]*@)?[*.]*(www[0-9]*[.])?', ''),
        '^([0-9a-f.]*:[0-9a-f.]*:[0-9a-f:.]*)$', '[\\1]'),
        '[.]*(:[0-9]*[.]*)?([/?#\\x5c].*)?$', '') -%}
    nullif(case when {{ matches_pattern(host, '^(([0-9a-fx]*[.]){0,3}(0x[0-9a-f]*|[0-9]+)|\\[[0-9a-f:.]*\\])$') }}
        then ip_address_host({{ host }}) else {{ host }} end, '')
{%- endmacro %}

{#- site is a domain below domain (m.adult.example below adult.example): a site and every
    domain above or below it share a sensitive category (int_marketing__browsing_signals).
    Compared by suffix, not like, so that no character of a key is a wildcard. -#}
{% macro is_below_domain(site, domain) -%}
    (length({{ site }}) > length({{ domain }})
        and substr({{ site }}, length({{ site }}) - length({{ domain }})) = concat('.', {{ domain }}))
{%- endmacro %}

{#- A customer number as a refusal may write it: normalised, without separators
    ("c-001", "C 001" and "C001" share the key c001). -#}
{% macro identifier_match_key(expr) -%}
    nullif(replace({{ normalised_term(expr) }}, '_', ''), '')
{%- endmacro %}

{#- An identifier as delivered: ASCII letters and digits first, then also . _ : -, at
    most 128 characters (privacy_pipeline.vocabulary.IDENTIFIER_PATTERN). No leading
    = + - @, no space, quote or control character: nothing a spreadsheet would run. -#}
{% macro is_safe_identifier(expr) -%}
    {{ matches_pattern(expr, '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$') }}
{%- endmacro %}

{#- A normalised interest or site category: lower-case letters and digits separated by _. -#}
{% macro is_interest_term(expr) -%}
    {{ matches_pattern(expr, '^[a-z0-9]+(_[a-z0-9]+)*$') }}
{%- endmacro %}

{#- Every configured sensitive term (config sensitive_categories: the categories and their
    other spellings, normalised and checked by privacy_pipeline.config). -#}
{% macro sensitive_terms() -%}
    {%- set terms = [] -%}
    {%- for category, spellings in var('sensitive_categories').items() -%}
        {%- do terms.append(category) -%}
        {%- do terms.extend(spellings or []) -%}
    {%- endfor -%}
    {%- for term in terms -%}
        {%- if not modules.re.fullmatch('[a-z0-9]+(_[a-z0-9]+)*', term) -%}
            {{ exceptions.raise_compiler_error('sensitive_categories: ' ~ term ~ ' is not a normalised term') }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(terms | unique | sort) }}
{%- endmacro %}

{#- A normalised term is sensitive when it, or one of its _-separated words, starts with
    a sensitive term: politics, political_news, adult_content, porno. Null = not sensitive. -#}
{% macro is_sensitive_term(expr) -%}
    coalesce({{ matches_pattern(expr, '(^|_)(' ~ (sensitive_terms() | join('|')) ~ ')') }}, false)
{%- endmacro %}

{#- The interests that may be scored, targeted or published (config allowed_interests),
    as a SQL list of literals. -#}
{% macro allowed_interest_list() -%}
    {%- for interest in var('allowed_interests') -%}
        {%- if not modules.re.fullmatch('[a-z0-9]+(_[a-z0-9]+)*', interest) -%}
            {{ exceptions.raise_compiler_error('allowed_interests: ' ~ interest ~ ' is not a normalised term') }}
        {%- endif -%}
        '{{ interest }}'{% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}
