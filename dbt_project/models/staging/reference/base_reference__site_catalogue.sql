-- Every delivered catalogue row, typed and checked; rejection_reason null = accepted.
-- The category is read normalised. A sensitive category (any spelling) is accepted, so that
-- traffic to the site is known to be sensitive (stg_reference__site_catalogue.is_sensitive);
-- any other category must be in config allowed_interests. site_key: the name as traffic
-- meets it (macro site_key; stg_reference__site_catalogue), computed in this table because
-- Spark's views cannot call the normaliser's UDF.
{{ checked_landing_rows(
    'reference', 'site_catalogue',
    checks=[
        ('not ' ~ is_sensitive_term('category') ~ ' and category not in (' ~ allowed_interest_list() ~ ')', 'unknown_interest:category'),
    ],
    extra_columns=[site_key('app_or_site') ~ ' as site_key'],
) }}
