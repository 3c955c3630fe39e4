-- People seen in an area on the run date, by class (resident, visitor, transit), at
-- postal code, municipality and province level: published figures only (k-anonymity and
-- the disclosure auditor over every location figure). Definitions:
-- docs/location-privacy.md.

{{ published_whole_day_figures('visitors_daily', ['area_id', 'visitor_class']) }}
