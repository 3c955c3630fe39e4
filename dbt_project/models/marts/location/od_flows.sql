-- People who moved from one municipality (or province) to another on the run date, per
-- time band of the arrival (Europe/Brussels clock): published figures only. A move is two
-- consecutive events of a person in different areas of the level.

{{ published_whole_day_figures('od_flows', ['origin_area_id', 'destination_area_id', 'time_band']) }}
