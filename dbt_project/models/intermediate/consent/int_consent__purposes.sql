-- The five purposes of the letter and how each is decided when the customer said nothing:
-- objection-based purposes are allowed unless the customer objected (opt_out),
-- consent-based purposes are off unless the customer opted in on the Proximus platform.
-- These come from the letter itself, not from tunable configuration.

select
    purposes.purpose,
    purposes.basis,
    purposes.basis = 'objection' as is_allowed_by_default
from (
    values
    ('direct_marketing', 'objection'),
    ('location_analytics', 'objection'),
    ('personalisation_browsing', 'consent'),
    ('personalisation_usage', 'consent'),
    ('partner_offers', 'consent')
) as purposes (purpose, basis)
