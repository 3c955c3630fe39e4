-- The SQL home of the normalisation rule (macro normalised_term) reads the same spellings
-- as its Python twin (privacy_pipeline.vocabulary, tests/test_vocabulary.py): NFKC, case
-- folding, accents and look-alike letters, zero-width characters, every whitespace, dashes
-- and _. Fails on any difference.
-- depends_on: {{ ref('base_reference__site_catalogue') }}

with

spellings as (
    select
        spelling,
        expected
    from (
        values
        ('opt_out', 'opt_out'),
        ('opt-out', 'opt_out'),
        ('OPT OUT', 'opt_out'),
        (' Opt_Out ', 'opt_out'),
        ('opt_out' || chr(9), 'opt_out'),
        ('opt' || chr(8203) || '_out' || chr(65279), 'opt_out'),
        (chr(8288) || 'opt' || chr(160) || chr(8211) || chr(12288) || 'out' || chr(10), 'opt_out'),
        ('ＯＰＴ＿ＯＵＴ', 'opt_out'),
        ('Öpt-Oüt', 'opt_out'),
        (chr(1086) || 'pt_out', 'opt_out'),
        ('Religión', 'religion'),
        ('Direct Marketing', 'direct_marketing'),
        ('rating 1-5', 'rating_1_5'),
        ('ﬁnance', 'finance'),
        ('Straße', 'strasse'),
        ('reli' || chr(173) || 'gion', 'religion'),
        (' ' || chr(9) || chr(8203), null)
    ) as cases (spelling, expected)
)

select
    spelling,
    expected,
    {{ normalised_term('spelling') }} as normalised
from spellings
where {{ normalised_term('spelling') }} is distinct from expected
