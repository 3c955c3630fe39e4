-- The visitors of an area on the run date (class visitor of visitors_daily) by home
-- municipality and home province: published figures only. Residents and people in transit
-- are not counted; a visitor whose home is unknown to the cells reference is in no origin.

{{ published_whole_day_figures('visitor_origin', ['area_id', 'origin_level', 'origin_area_id']) }}
