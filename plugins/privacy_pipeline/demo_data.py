"""Synthetic landing zone: every contract table, deterministic for a seed, at any scale.

``generate_landing_zone`` writes the tables of ``docs/data-contract.md`` for the ``days``
Europe/Brussels calendar days ending at ``end_date`` (the run date). Everything is computed
by DuckDB over ``range()``: each random draw is a hash of (row key, salt) where the salts
derive from the seed, so the same seed gives byte-identical files and the generator scales
to a million customers and 100 million network events on two cores (docs/benchmarks.md).

Determinism: DuckDB keeps row order only through order-preserving operators, so the large
fact tables (traffic, calls, devices, network events) are projections of the open
customers with ``unnest(range(n))`` and a cross join with a one-row table of lookup lists,
never hash joins; every other table ends with an ``ORDER BY`` on its key.

Formats: customers, privacy_preferences, partners and site_catalogue are CSV (timestamps
as ``...Z`` or ``...+02:00``), contest_entries is gzipped CSV, network_events is a folder
of Parquet files (one per ~8M rows), everything else is one Parquet file (timestamps as
TIMESTAMP WITH TIME ZONE).

What the data looks like (tests and demos rely on these facts):

- about 45% of customers are Scarlet accounts; 70% of those migrated to the Proximus
  platform before the end of the run date, the rest are still on the legacy platform;
  4% of all accounts were closed before the first generated day and have no activity
  (network events are spread over the open accounts so that there are
  ``events_per_customer`` per customer per day on average over all customers);
- consent events come from every channel and both platforms: legacy events strictly before
  the migration, Proximus events after it (or after account creation, but not before the
  GDPR, for Proximus-brand accounts), including direct-marketing objections on the legacy
  platform, location analytics objections, opt-ins and withdrawals, and refusals recorded
  up to three days after the run date;
- the public event EV01 "Kempen Open Air festival" (postal code 2480 Dessel) runs from two
  days before the run date 12:00 to the day after 02:00 local time; 15% of customers (at
  most 60,000) attend it and spend 90% of their network activity in its dedicated cells
  (``event_cells``); EV02, a football match in 1020 (Laeken), runs 20:00-23:00 on the run
  date and draws 6% (at most 45,000); EV03, a village fair in 2400 Mol, 14:00-18:00 on the
  run date, draws only 0.4% (at most 400): below k=30 in the 2,000-customer demo; EV04 is
  a month in the past and EV05 a month in the future;
- customers live mostly in a handful of postal codes (P(rank r) ~ 1/(r + 1.5), largest
  cities first), so the default 2,000-customer demo has more than 30 people per postal
  code and hour in its largest postal codes; they spend nights at home, most of the day
  near home, workday office hours near work, and the rest anywhere;
- traffic is skewed (log-normal activity per customer, popular apps dominate), 40% of it
  follows the customer's two interests, and it includes sensitive and uncatalogued sites.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import os
import random
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
from tqdm import tqdm

from privacy_pipeline.config import mark_as_demo_data
from privacy_pipeline.sql import quote_literal

log = logging.getLogger(__name__)

BRUSSELS = ZoneInfo("Europe/Brussels")
DAY = 86_400

# Contract tables in the order they are written and reported.
TABLES = (
    "cells",
    "events",
    "event_cells",
    "partners",
    "site_catalogue",
    "surveys",
    "survey_questions",
    "contests",
    "customers",
    "privacy_preferences",
    "survey_responses",
    "contest_entries",
    "traffic_events",
    "call_records",
    "device_observations",
    "network_events",
)

# How each table is written: both CSV flavours and Parquet are exercised on purpose.
TABLE_FORMATS = {name: "parquet" for name in TABLES} | {
    "customers": "csv",
    "privacy_preferences": "csv",
    "partners": "csv",
    "site_catalogue": "csv",
    "contest_entries": "csv.gz",
    "network_events": "parquet-folder",
}

MAX_CUSTOMERS = 30_000_000  # size of the +3247/+3248/+3249 msisdn space we draw from
NETWORK_ROWS_PER_FILE = 8_000_000  # rows per network_events/part-NNNNN.parquet
DUCKDB_MEMORY_LIMIT = "3GB"

# ---------------------------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------------------------

PROVINCES = {
    "BRU": "Bruxelles-Capitale",
    "ANT": "Antwerpen",
    "LIM": "Limburg",
    "OVL": "Oost-Vlaanderen",
    "WVL": "West-Vlaanderen",
    "VBR": "Vlaams-Brabant",
    "WBR": "Brabant wallon",
    "HAI": "Hainaut",
    "LIE": "Liège",
    "LUX": "Luxembourg",
    "NAM": "Namur",
}

# Municipality, province, centre (lat, lon), postal codes (main first), largest first.
MUNICIPALITIES: tuple[tuple[str, str, float, float, str], ...] = (
    ("Bruxelles", "BRU", 50.8467, 4.3525, "1000 1020 1120 1130"),
    ("Antwerpen", "ANT", 51.2194, 4.4025, "2000 2018 2020 2030 2050 2060 2100 2140 2170 2180"),
    ("Gent", "OVL", 51.0543, 3.7174, "9000 9030 9031 9032 9040 9041 9042 9050 9051 9052"),
    ("Charleroi", "HAI", 50.4108, 4.4446, "6000 6001 6010 6020 6030 6031 6032 6040 6041 6060"),
    ("Liège", "LIE", 50.6326, 5.5797, "4000 4020 4030 4031 4032"),
    ("Anderlecht", "BRU", 50.8333, 4.3072, "1070"),
    ("Schaerbeek", "BRU", 50.8676, 4.3737, "1030"),
    ("Brugge", "WVL", 51.2093, 3.2247, "8000 8200 8310 8380"),
    ("Namur", "NAM", 50.4674, 4.8718, "5000 5001 5002 5003 5004 5020 5024 5100 5101"),
    ("Leuven", "VBR", 50.8798, 4.7005, "3000 3001 3010 3012 3018"),
    ("Molenbeek-Saint-Jean", "BRU", 50.8550, 4.3290, "1080"),
    ("Mons", "HAI", 50.4542, 3.9567, "7000 7011 7012 7020 7021 7022 7024 7030 7031 7032"),
    ("Ixelles", "BRU", 50.8333, 4.3667, "1050"),
    ("Mechelen", "ANT", 51.0259, 4.4776, "2800 2801 2811 2812"),
    ("Aalst", "OVL", 50.9378, 4.0403, "9300 9308 9310 9320"),
    ("Uccle", "BRU", 50.8020, 4.3370, "1180"),
    ("La Louvière", "HAI", 50.4797, 4.1869, "7100 7110"),
    ("Hasselt", "LIM", 50.9307, 5.3378, "3500 3501 3510 3511 3512"),
    ("Kortrijk", "WVL", 50.8277, 3.2650, "8500 8501 8510 8511"),
    ("Sint-Niklaas", "OVL", 51.1650, 4.1437, "9100 9111 9112"),
    ("Oostende", "WVL", 51.2300, 2.9200, "8400"),
    ("Tournai", "HAI", 50.6071, 3.3893, "7500 7501 7502 7503 7520 7521 7522 7530 7531 7532"),
    ("Genk", "LIM", 50.9650, 5.5000, "3600"),
    ("Seraing", "LIE", 50.5833, 5.5000, "4100 4101 4102"),
    ("Roeselare", "WVL", 50.9469, 3.1227, "8800"),
    ("Verviers", "LIE", 50.5891, 5.8624, "4800 4801 4802"),
    ("Mouscron", "HAI", 50.7445, 3.2140, "7700 7711 7712"),
    ("Forest", "BRU", 50.8104, 4.3180, "1190"),
    ("Saint-Gilles", "BRU", 50.8268, 4.3456, "1060"),
    ("Jette", "BRU", 50.8774, 4.3289, "1090"),
    ("Etterbeek", "BRU", 50.8361, 4.3861, "1040"),
    ("Woluwe-Saint-Lambert", "BRU", 50.8437, 4.4283, "1200"),
    ("Evere", "BRU", 50.8697, 4.4026, "1140"),
    ("Woluwe-Saint-Pierre", "BRU", 50.8314, 4.4433, "1150"),
    ("Auderghem", "BRU", 50.8152, 4.4331, "1160"),
    ("Watermael-Boitsfort", "BRU", 50.7994, 4.4163, "1170"),
    ("Saint-Josse-ten-Noode", "BRU", 50.8536, 4.3717, "1210"),
    ("Koekelberg", "BRU", 50.8623, 4.3257, "1081"),
    ("Berchem-Sainte-Agathe", "BRU", 50.8643, 4.2926, "1082"),
    ("Ganshoren", "BRU", 50.8711, 4.3085, "1083"),
    ("Dendermonde", "OVL", 51.0286, 4.1010, "9200"),
    ("Beringen", "LIM", 51.0494, 5.2269, "3580 3581 3582 3583"),
    ("Turnhout", "ANT", 51.3227, 4.9447, "2300"),
    ("Vilvoorde", "VBR", 50.9281, 4.4245, "1800"),
    ("Lokeren", "OVL", 51.1034, 3.9934, "9160"),
    ("Sint-Truiden", "LIM", 50.8167, 5.1833, "3800 3803 3806"),
    ("Heist-op-den-Berg", "ANT", 51.0755, 4.7285, "2220 2221 2222 2223"),
    ("Herstal", "LIE", 50.6626, 5.6323, "4040 4041 4042"),
    ("Wavre", "WBR", 50.7171, 4.6014, "1300 1301"),
    ("Ottignies-Louvain-la-Neuve", "WBR", 50.6683, 4.5689, "1340 1341 1342 1348"),
    ("Braine-l'Alleud", "WBR", 50.6836, 4.3678, "1420 1421 1428"),
    ("Waterloo", "WBR", 50.7147, 4.3994, "1410"),
    ("Nivelles", "WBR", 50.5977, 4.3288, "1400 1401 1402 1404"),
    ("Tubize", "WBR", 50.6927, 4.2050, "1480"),
    ("Rixensart", "WBR", 50.7115, 4.5290, "1330 1331 1332"),
    ("Jodoigne", "WBR", 50.7235, 4.8706, "1370"),
    ("Halle", "VBR", 50.7339, 4.2345, "1500 1501 1502"),
    ("Dilbeek", "VBR", 50.8480, 4.2600, "1700 1701 1702 1703"),
    ("Zaventem", "VBR", 50.8836, 4.4728, "1930 1932 1933"),
    ("Grimbergen", "VBR", 50.9344, 4.3717, "1850 1851 1852 1853"),
    ("Aarschot", "VBR", 50.9869, 4.8366, "3200 3201 3202"),
    ("Tienen", "VBR", 50.8072, 4.9380, "3300"),
    ("Diest", "VBR", 50.9847, 5.0508, "3290"),
    ("Rotselaar", "VBR", 50.9530, 4.7160, "3110 3111 3118"),
    ("Asse", "VBR", 50.9103, 4.1986, "1730 1731"),
    ("Tervuren", "VBR", 50.8233, 4.5147, "3080"),
    ("Mol", "ANT", 51.1910, 5.1164, "2400"),
    ("Geel", "ANT", 51.1617, 4.9900, "2440"),
    ("Dessel", "ANT", 51.2386, 5.1133, "2480"),
    ("Boom", "ANT", 51.0920, 4.3667, "2850"),
    ("Lier", "ANT", 51.1313, 4.5705, "2500"),
    ("Herentals", "ANT", 51.1766, 4.8366, "2200"),
    ("Schoten", "ANT", 51.2526, 4.5019, "2900"),
    ("Brasschaat", "ANT", 51.2912, 4.4918, "2930"),
    ("Mortsel", "ANT", 51.1703, 4.4567, "2640"),
    ("Kontich", "ANT", 51.1340, 4.4458, "2550"),
    ("Tongeren", "LIM", 50.7806, 5.4640, "3700"),
    ("Lommel", "LIM", 51.2306, 5.3131, "3920"),
    ("Maasmechelen", "LIM", 50.9650, 5.6944, "3630"),
    ("Bilzen", "LIM", 50.8730, 5.5190, "3740"),
    ("Oudenaarde", "OVL", 50.8450, 3.6050, "9700"),
    ("Ninove", "OVL", 50.8360, 4.0230, "9400"),
    ("Wetteren", "OVL", 51.0050, 3.8830, "9230"),
    ("Eeklo", "OVL", 51.1870, 3.5600, "9900"),
    ("Geraardsbergen", "OVL", 50.7730, 3.8820, "9500"),
    ("Ronse", "OVL", 50.7460, 3.6010, "9600"),
    ("Deinze", "OVL", 50.9840, 3.5300, "9800"),
    ("Ieper", "WVL", 50.8510, 2.8850, "8900 8902 8904 8906 8908"),
    ("Knokke-Heist", "WVL", 51.3500, 3.2660, "8300 8301"),
    ("Waregem", "WVL", 50.8880, 3.4260, "8790"),
    ("Menen", "WVL", 50.7970, 3.1210, "8930"),
    ("Tielt", "WVL", 50.9990, 3.3270, "8700"),
    ("De Panne", "WVL", 51.0990, 2.5930, "8660"),
    ("Blankenberge", "WVL", 51.3130, 3.1320, "8370"),
    ("Poperinge", "WVL", 50.8550, 2.7270, "8970"),
    ("Ath", "HAI", 50.6290, 3.7780, "7800"),
    ("Binche", "HAI", 50.4110, 4.1650, "7130"),
    ("Soignies", "HAI", 50.5790, 4.0710, "7060"),
    ("Châtelet", "HAI", 50.4060, 4.5250, "6200"),
    ("Fleurus", "HAI", 50.4830, 4.5500, "6220"),
    ("Thuin", "HAI", 50.3400, 4.2860, "6530"),
    ("Dour", "HAI", 50.3960, 3.7780, "7370"),
    ("Huy", "LIE", 50.5180, 5.2390, "4500"),
    ("Spa", "LIE", 50.4920, 5.8640, "4900"),
    ("Eupen", "LIE", 50.6290, 6.0360, "4700 4701"),
    ("Waremme", "LIE", 50.6970, 5.2550, "4300"),
    ("Ans", "LIE", 50.6620, 5.5200, "4430 4431 4432"),
    ("Malmedy", "LIE", 50.4260, 6.0280, "4960"),
    ("Stavelot", "LIE", 50.3940, 5.9300, "4970"),
    ("Arlon", "LUX", 49.6833, 5.8167, "6700"),
    ("Bastogne", "LUX", 50.0000, 5.7167, "6600"),
    ("Marche-en-Famenne", "LUX", 50.2270, 5.3440, "6900"),
    ("Libramont-Chevigny", "LUX", 49.9200, 5.3790, "6800"),
    ("Virton", "LUX", 49.5680, 5.5330, "6760"),
    ("Durbuy", "LUX", 50.3520, 5.4560, "6940"),
    ("Bouillon", "LUX", 49.7940, 5.0670, "6830"),
    ("Dinant", "NAM", 50.2610, 4.9120, "5500"),
    ("Gembloux", "NAM", 50.5610, 4.6990, "5030"),
    ("Sambreville", "NAM", 50.4330, 4.6170, "5060"),
    ("Andenne", "NAM", 50.4890, 5.0960, "5300"),
    ("Ciney", "NAM", 50.2950, 5.1000, "5590"),
    ("Philippeville", "NAM", 50.1960, 4.5440, "5600"),
)

# Postal-code ranges and rough bounding boxes (lat0, lat1, lon0, lon1) per province, used
# for the extra villages a large demo needs beyond the municipalities listed above.
PROVINCE_RANGES = {
    "WBR": ((1300, 1499), (50.55, 50.78, 4.10, 5.00)),
    "VBR": ((1500, 1999), (50.72, 51.00, 4.00, 5.10)),
    "ANT": ((2000, 2999), (51.00, 51.45, 4.20, 5.20)),
    "LIM": ((3500, 3999), (50.75, 51.25, 5.00, 5.85)),
    "LIE": ((4000, 4999), (50.30, 50.75, 5.10, 6.30)),
    "NAM": ((5000, 5999), (49.98, 50.60, 4.30, 5.35)),
    "HAI": ((7000, 7999), (50.25, 50.75, 3.25, 4.50)),
    "LUX": ((6600, 6999), (49.55, 50.30, 5.15, 5.95)),
    "WVL": ((8000, 8999), (50.72, 51.33, 2.60, 3.45)),
    "OVL": ((9000, 9999), (50.76, 51.28, 3.50, 4.28)),
}
_DUTCH_VILLAGE = (
    ("Sint-", "Groot-", "Klein-", "Oost", "West", "Noord", "Zuid", "", "", "", ""),
    ("beke", "elsen", "moer", "linde", "roden", "zand", "hove", "kal", "wijn", "mere", "heul"),
    ("gem", "kerke", "hout", "dijk", "dorp", "lo", "ingen", "zele", "rode", "broek", "donk"),
)
_FRENCH_VILLAGE = (
    ("Villers-", "Mont-", "Saint-", "Fontaine-", "Neuf", "Bois-", "", "", "", ""),
    ("bel", "roche", "ham", "val", "court", "grand", "hau", "sorin", "mar", "flor", "ber"),
    ("ville", "mont", "court", "sart", "champs", "ines", "ée", "ois", "elle", "y", "ain"),
)


@dataclass(frozen=True)
class PostalArea:
    postal_code: str
    municipality: str
    province: str
    lat: float
    lon: float


@dataclass(frozen=True)
class PublicEvent:
    name: str
    postal_code: str
    starts: tuple[int, int]  # (days after the run date, local hour)
    ends: tuple[int, int]
    share: float  # share of customers attending ...
    cap: int  # ... but never more people than this
    cells: int  # dedicated cells put up for the event


PUBLIC_EVENTS = (
    PublicEvent("Kempen Open Air festival", "2480", (-2, 12), (1, 2), 0.15, 60_000, 4),
    PublicEvent("Red Devils friendly match", "1020", (0, 20), (0, 23), 0.06, 45_000, 3),
    PublicEvent("Mol village fair", "2400", (0, 14), (0, 18), 0.004, 400, 2),
    PublicEvent("Gent Jazz Nights", "9000", (-30, 19), (-29, 1), 0.05, 20_000, 3),
    PublicEvent("Boom Dance Festival", "2850", (33, 12), (35, 23), 0.10, 70_000, 4),
)
# Attendees spend this share of their network activity in the event's cells.
EVENT_CELL_SHARE = 0.9

# Interests with their popularity (first and second interest of each customer).
INTERESTS = {
    "music": 14,
    "sport": 13,
    "food": 12,
    "travel": 11,
    "news": 11,
    "shopping": 10,
    "gaming": 9,
    "finance": 7,
    "technology": 7,
    "business": 6,
}
SENSITIVE_CATEGORIES = ("sexual", "religious", "political")

# app_or_site, category (None = not in the catalogue), popularity weight.
SITES: tuple[tuple[str, str | None, float], ...] = (
    ("youtube", "music", 60),
    ("spotify", "music", 40),
    ("deezer", "music", 8),
    ("soundcloud.com", "music", 4),
    ("ticketmaster.be", "music", 3),
    ("twitch.tv", "gaming", 12),
    ("steampowered.com", "gaming", 8),
    ("roblox", "gaming", 7),
    ("epicgames.com", "gaming", 5),
    ("ea.com", "gaming", 3),
    ("sporza.be", "sport", 10),
    ("walfoot.be", "sport", 4),
    ("strava", "sport", 6),
    ("espn.com", "sport", 3),
    ("booking.com", "travel", 8),
    ("airbnb.com", "travel", 5),
    ("ryanair.com", "travel", 4),
    ("sncb.be", "travel", 6),
    ("brusselsairlines.com", "travel", 2),
    ("belfius.be", "finance", 9),
    ("kbc.be", "finance", 8),
    ("ing.be", "finance", 6),
    ("bolero.be", "finance", 2),
    ("revolut", "finance", 4),
    ("deliveroo.be", "food", 6),
    ("ubereats.com", "food", 5),
    ("takeaway.com", "food", 6),
    ("hellofresh.be", "food", 2),
    ("colruyt.be", "food", 5),
    ("hln.be", "news", 14),
    ("lesoir.be", "news", 8),
    ("standaard.be", "news", 7),
    ("rtbf.be", "news", 8),
    ("vrt.be", "news", 9),
    ("nieuwsblad.be", "news", 8),
    ("bol.com", "shopping", 10),
    ("zalando.be", "shopping", 6),
    ("amazon.fr", "shopping", 7),
    ("coolblue.be", "shopping", 4),
    ("vinted.be", "shopping", 5),
    ("tweakers.net", "technology", 3),
    ("github.com", "technology", 2),
    ("odoo.com", "business", 2),
    ("linkedin.com", "business", 6),
    ("pornhub.com", "sexual", 5),
    ("onlyfans.com", "sexual", 2),
    ("xvideos.com", "sexual", 3),
    ("kerknet.be", "religious", 1),
    ("bible.com", "religious", 1),
    ("muslimpro", "religious", 2),
    ("cathobel.be", "religious", 0.5),
    ("vooruit.org", "political", 0.8),
    ("n-va.be", "political", 0.8),
    ("ps.be", "political", 0.5),
    ("mr.be", "political", 0.5),
    ("ecolo.be", "political", 0.4),
    ("pvda.be", "political", 0.4),
    ("vlaamsbelang.org", "political", 0.6),
    ("google.com", None, 50),
    ("whatsapp", None, 45),
    ("facebook", None, 35),
    ("instagram", None, 30),
    ("tiktok", None, 28),
    ("netflix", None, 20),
    ("akamaihd.net", None, 15),
    ("apple.com", None, 10),
    ("microsoft.com", None, 10),
    ("wikipedia.org", None, 6),
    ("buienradar.be", None, 5),
    ("smartschool.be", None, 4),
)

PARTNERS = (
    ("PT01", "Belfius", "finance"),
    ("PT02", "Odoo", "business"),
    ("PT03", "Pixel Arena Gaming", "gaming"),
    ("PT04", "Brussels Airlines", "travel"),
    ("PT05", "Ticketmaster Belgium", "music"),
    ("PT06", "Be-Mobile", None),
)

# survey_id, name, answered between these days before the run date, questions.
SURVEYS = (
    (
        "SV01",
        "Summer lifestyle survey",
        (45, 5),
        (
            ("How many music festivals did you attend in the last three years?", "music", "count"),
            ("Do you go to concerts at least twice a year?", "music", "yes_no"),
            ("Do you play video games every week?", "gaming", "yes_no"),
            ("How much do you enjoy watching sport?", "sport", "rating_1_5"),
            ("How many trips abroad did you take last year?", "travel", "count"),
        ),
    ),
    (
        "SV02",
        "Your digital habits",
        (200, 150),
        (
            ("How would you rate your interest in video games?", "gaming", "rating_1_5"),
            ("How many online orders did you place last month?", "shopping", "count"),
            ("How closely do you follow the news?", "news", "rating_1_5"),
            ("Are you the first to try new gadgets?", "technology", "yes_no"),
        ),
    ),
    (
        "SV03",
        "Money, food and work",
        (420, 380),
        (
            ("Do you follow the financial markets?", "finance", "yes_no"),
            ("How many meals did you order in last month?", "food", "count"),
            ("Do you run your own business?", "business", "yes_no"),
            ("How much do you enjoy planning holidays?", "travel", "rating_1_5"),
        ),
    ),
)
SURVEY_RESPONSE_RATE = 0.3

# contest_id, name, theme, partner_id, starts (days after the run date), duration in days.
CONTESTS = (
    ("CT01", "Win tickets for Kempen Open Air", "music", "PT05", -60, 40),
    ("CT02", "Gaming week: win a console", "gaming", "PT03", -120, 14),
    ("CT03", "Red Devils jersey contest", "sport", None, -30, 25),
    ("CT04", "A weekend in Barcelona", "travel", "PT04", -200, 30),
    ("CT05", "Belfius savings challenge", "finance", "PT01", -150, 30),
    ("CT06", "Foodie box giveaway", "food", None, -90, 21),
    ("CT07", "Esports cup qualifiers", "gaming", "PT03", -10, 20),
    ("CT08", "Start your business with Odoo", "business", "PT02", -250, 30),
    ("CT09", "Summer festival pass", "music", None, -5, 30),
    ("CT10", "Autumn city trips", "travel", None, 20, 30),
    ("CT11", "News quiz", "news", None, -300, 14),
    ("CT12", "Tech gadgets draw", "technology", None, -40, 14),
)

HANDSETS = {
    "Apple iPhone 15": 14,
    "Apple iPhone 13": 10,
    "Samsung Galaxy S24": 9,
    "Samsung Galaxy A54": 11,
    "Samsung Galaxy A15": 8,
    "Google Pixel 8": 4,
    "Xiaomi Redmi Note 13": 7,
    "OnePlus 12": 2,
    "Fairphone 5": 1,
    "Motorola moto g54": 3,
    "Nokia G22": 2,
    "Doro 8100": 1,
}
HOME_DEVICES = {
    "smart_tv": 20,
    "laptop": 22,
    "printer": 12,
    "tablet": 12,
    "game_console": 9,
    "smart_speaker": 8,
    "set_top_box": 14,
    "nas": 2,
}

# Relative network activity per local hour: low at night, peak in the evening.
HOUR_WEIGHTS = (
    0.8, 0.5, 0.35, 0.3, 0.3, 0.5, 1.2, 2.8, 4.2, 4.6, 4.8, 5.0,
    5.4, 5.2, 5.0, 5.0, 5.3, 5.8, 6.0, 5.8, 5.4, 4.6, 3.4, 1.8,
)  # fmt: skip

FIRST_NAMES = (
    "Emma", "Louise", "Olivia", "Noah", "Arthur", "Lucas", "Liam", "Jules", "Marie", "Sofie",
    "Lotte", "Wout", "Jan", "Pieter", "Sarah", "Nathalie", "Mohamed", "Yasmine", "Fatima",
    "Ayoub", "Elif", "Mehmet", "Julie", "Camille", "Thomas", "Maxime", "Luc", "Anne", "Koen",
    "Els", "Hanne", "Ruben", "Lars", "Nina", "Léa", "Chloé", "Zoé", "Théo", "Hugo", "Louis",
    "Victor", "Amélie", "Céline", "François", "Geneviève", "Jérôme", "Inès", "Bram", "Jef",
    "Mila", "Anna", "Seppe", "Kobe", "Nora", "Adam", "Rania", "Stijn", "Tine", "Wim", "Greet",
)  # fmt: skip
LAST_NAMES = (
    "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
    "Wouters", "De Smet", "Dubois", "Lambert", "Dupont", "Martin", "Simon", "Laurent", "Leroy",
    "Dumont", "Renard", "Lejeune", "Van Damme", "De Backer", "Vermeulen", "Desmet", "D'Hondt",
    "Van den Broeck", "El Amrani", "Benali", "Yilmaz", "Nowak", "Pauwels", "Hermans",
    "Michiels", "Verstraete", "Lemaire", "François", "Denis", "Gérard", "Dewulf", "Aerts",
    "Van de Velde", "Cools", "Smets", "Lemmens", "Bogaert", "Declercq", "Martens", "Mahieu",
)  # fmt: skip
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

# Consent channels and how often each platform's events come through them.
CHANNEL_WEIGHTS = {
    "scarlet_legacy": {
        "myscarlet_web": 35,
        "myscarlet_app": 20,
        "email": 25,
        "letter": 10,
        "customer_care": 10,
    },
    "proximus": {
        "myscarlet_web": 40,
        "myscarlet_app": 35,
        "email": 5,
        "letter": 5,
        "customer_care": 15,
    },
}


@dataclass(frozen=True)
class ConsentRule:
    """One kind of event in the consent ledger, drawn independently per customer."""

    platform: str  # scarlet_legacy | proximus
    purpose: str
    choice: str
    share: float  # probability among customers for whom the rule can apply
    after: int | None = None  # index of a rule that must have fired; this one comes later
    requires: int | None = None  # index of a rule that must have fired (no time ordering)
    unless: int | None = None  # index of a rule that must not have fired
    late: bool = False  # recorded after the run date


CONSENT_RULES = (
    # 0-2: legacy platform, before migration (or until now for unmigrated accounts).
    ConsentRule("scarlet_legacy", "direct_marketing", "opt_out", 0.28),
    ConsentRule("scarlet_legacy", "direct_marketing", "opt_in", 0.15, after=0),
    ConsentRule("scarlet_legacy", "location_analytics", "opt_out", 0.04),
    # 3-13: Proximus platform, after migration (or account creation for Proximus accounts).
    ConsentRule("proximus", "direct_marketing", "opt_out", 0.07),
    ConsentRule("proximus", "direct_marketing", "opt_in", 0.10, requires=0, unless=1),
    ConsentRule("proximus", "location_analytics", "opt_out", 0.10),
    ConsentRule("proximus", "location_analytics", "opt_in", 0.20, after=5),
    ConsentRule("proximus", "personalisation_browsing", "opt_in", 0.30),
    ConsentRule("proximus", "personalisation_browsing", "opt_out", 0.20, after=7),
    ConsentRule("proximus", "personalisation_usage", "opt_in", 0.25),
    ConsentRule("proximus", "personalisation_usage", "opt_out", 0.20, after=9),
    ConsentRule("proximus", "partner_offers", "opt_in", 0.22),
    ConsentRule("proximus", "partner_offers", "opt_out", 0.25, after=11),
    ConsentRule("proximus", "personalisation_browsing", "opt_out", 0.04, unless=7),
    # 14-16: refusals recorded after the run date.
    ConsentRule("proximus", "location_analytics", "opt_out", 0.02, late=True),
    ConsentRule("proximus", "direct_marketing", "opt_out", 0.015, late=True),
    ConsentRule("scarlet_legacy", "direct_marketing", "opt_out", 0.03, late=True),
)

PREFERENCE_CENTRE_EPOCH = int(dt.datetime(2018, 5, 25, tzinfo=dt.UTC).timestamp())
SCARLET_SHARE = 0.45
MIGRATED_SHARE = 0.70  # of Scarlet accounts, migrated before the end of the run date
CLOSED_SHARE = 0.04
MIGRATION_DAYS = 290  # migrations started this many days before the run date
FIXED_INTERNET_SHARE = 0.6
NO_MOBILE_SHARE = 0.04
TRAFFIC_PER_DAY = 8  # traffic events per customer per day, on average
CALLS_PER_DAY = 3


# Resolution of the weighted draws made by bucket lookups (see _buckets).
HOUR_BUCKETS = 256
SITE_BUCKETS = 512
DEVICE_BUCKETS = 1024
# A network event picks one of CELL_SLOTS slots of its postal area; slots map to its cells.
CELL_SLOTS = 8
# Rows per row group of the working copy of the customers that activity is generated from:
# DuckDB parallelises a scan by row group, so small groups keep both cores busy per chunk.
ACTIVE_ROW_GROUP = 8192


def cells_in_area(rank: int) -> int:
    """Cells of the postal area of this rank (0 = largest): 7 in big cities, 2-3 in villages."""
    return 2 + int(5 / math.sqrt(rank + 1)) + rank % 2


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def _salt(seed: int, name: str) -> int:
    """A 62-bit salt for one random draw: different per seed and per draw."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 2


def _epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _local_epoch(day: dt.date, hour: int = 0) -> int:
    """Epoch seconds of local Brussels time ``day`` ``hour``:00."""
    local = dt.datetime.combine(day, dt.time()) + dt.timedelta(hours=hour)
    return _epoch(local.replace(tzinfo=BRUSSELS))


def _buckets(weights: Sequence[float], size: int) -> list[int]:
    """Indices into ``weights`` repeated in proportion: a uniform bucket draws an index.

    Largest-remainder rounding, and every index with a positive weight gets a bucket.
    """
    total = float(sum(weights))
    exact = [w / total * size for w in weights]
    counts = [max(1, math.floor(x)) if w > 0 else 0 for x, w in zip(exact, weights, strict=True)]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - math.floor(exact[i]), reverse=True)
    i = 0
    while sum(counts) < size:
        counts[order[i % len(order)]] += 1
        i += 1
    while sum(counts) > size:  # minimum-one buckets overshot: trim the largest
        counts[max(range(len(counts)), key=counts.__getitem__)] -= 1
    return [index for index, count in enumerate(counts) for _ in range(count)]


def _sql_literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return quote_literal(value)


def _list_macro(con: duckdb.DuckDBPyConnection, name: str, values: Sequence[object]) -> None:
    """``name(i)`` = ``values[i]`` (0-based), a constant-list lookup that keeps row order."""
    items = ",".join(_sql_literal(v) for v in values)
    con.execute(f"CREATE OR REPLACE MACRO {name}(i) AS [{items}][i::BIGINT + 1]")


def _choice_case(u: str, weights: dict[str, float]) -> str:
    """SQL CASE picking a key of ``weights`` from the uniform draw ``u``."""
    total = sum(weights.values())
    cumulative, branches = 0.0, []
    for key, weight in list(weights.items())[:-1]:
        cumulative += weight / total
        branches.append(f"WHEN {u} < {cumulative!r} THEN {_sql_literal(key)}")
    return f"CASE {' '.join(branches)} ELSE {_sql_literal(list(weights)[-1])} END"


def _village_name(rng: random.Random, province: str) -> str:
    prefixes, roots, suffixes = (
        _DUTCH_VILLAGE if province in {"ANT", "LIM", "OVL", "WVL", "VBR"} else _FRENCH_VILLAGE
    )
    root = rng.choice(roots) + rng.choice(suffixes)
    prefix = rng.choice(prefixes)
    return prefix + (root.capitalize() if prefix.endswith("-") or not prefix else root)


def build_postal_areas(count: int) -> list[PostalArea]:
    """``count`` postal areas, largest first, plus the public events' venues.

    Listed municipalities' main postal codes come first, then their other postal codes, then
    synthetic villages (one to three postal codes each) inside each province's code range.
    """
    main, secondary = [], []
    for name, province, lat, lon, codes in MUNICIPALITIES:
        rng = random.Random(f"{name}-{codes}")
        for position, code in enumerate(codes.split()):
            jitter = (
                (0.0, 0.0)
                if position == 0
                else (rng.uniform(-0.04, 0.04), rng.uniform(-0.05, 0.05))
            )
            area = PostalArea(code, name, PROVINCES[province], lat + jitter[0], lon + jitter[1])
            (main if position == 0 else secondary).append(area)
    areas = main + secondary
    if count > len(areas):
        areas += _synthetic_villages(count - len(areas), {a.postal_code for a in areas})
    chosen = areas[:count]
    venues = {e.postal_code for e in PUBLIC_EVENTS} - {a.postal_code for a in chosen}
    chosen += [a for a in areas if a.postal_code in venues]
    return chosen


def _synthetic_villages(count: int, taken: set[str]) -> list[PostalArea]:
    taken = set(taken)
    rng = random.Random(20260620)
    free = {
        province: [c for c in range(lo, hi + 1, 10) if str(c) not in taken]
        for province, ((lo, hi), _) in PROVINCE_RANGES.items()
    }
    for codes in free.values():
        rng.shuffle(codes)
    villages: list[PostalArea] = []
    names: set[str] = {m[0] for m in MUNICIPALITIES}
    provinces = sorted(free)
    while len(villages) < count and any(free.values()):
        province = provinces[len(villages) % len(provinces)]
        if not free[province]:
            provinces.remove(province)
            continue
        base = free[province].pop()
        name = _village_name(rng, province)
        while name in names:
            name = _village_name(rng, province)
        names.add(name)
        lat0, lat1, lon0, lon1 = PROVINCE_RANGES[province][1]
        lat, lon = rng.uniform(lat0, lat1), rng.uniform(lon0, lon1)
        for offset in range(rng.choice((1, 1, 1, 2, 3))):
            if str(base + offset) in taken:
                break
            taken.add(str(base + offset))
            villages.append(
                PostalArea(
                    str(base + offset),
                    name,
                    PROVINCES[province],
                    round(lat + rng.uniform(-0.02, 0.02), 4),
                    round(lon + rng.uniform(-0.02, 0.02), 4),
                )
            )
    return villages[:count]


def _postal_area_count(customers: int) -> int:
    """Two dozen postal codes for the small demo, about one per 1,000 customers at scale."""
    return max(24, min(1100, customers // 1000))


# ---------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    """The generated days, as epoch seconds of Brussels local midnights."""

    day_starts: tuple[int, ...]
    day_lengths: tuple[int, ...]  # 82,800 / 86,400 / 90,000 seconds (daylight saving)
    workdays: tuple[bool, ...]
    run_end: int  # end of the run date = end of the last day

    @classmethod
    def ending(cls, end_date: dt.date, days: int) -> _Window:
        dates = [end_date - dt.timedelta(days=days - 1 - i) for i in range(days)]
        starts = [_local_epoch(d) for d in dates]
        ends = [_local_epoch(d + dt.timedelta(days=1)) for d in dates]
        return cls(
            tuple(starts),
            tuple(e - s for s, e in zip(starts, ends, strict=True)),
            tuple(d.weekday() < 5 for d in dates),
            ends[-1],
        )

    @property
    def first_start(self) -> int:
        return self.day_starts[0]


def generate_landing_zone(
    landing_dir: Path,
    customers: int = 2000,
    days: int = 1,
    events_per_customer: int = 100,
    seed: int = 42,
    end_date: dt.date = dt.date(2026, 6, 20),
    show_progress: bool = True,
) -> dict[str, int]:
    """Write a synthetic landing zone into ``landing_dir``; returns rows written per table.

    Activity tables (traffic, calls, devices, network events) cover the ``days`` Brussels
    calendar days ending at ``end_date``; ``events_per_customer`` is the average number of
    network events per customer per day. Contract tables already in ``landing_dir`` are
    replaced (whatever their format); other files are left alone. The tables are written to a
    staging folder first, so a failure leaves the previous landing zone untouched.
    """
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise ValueError(f"customers must be between 1 and {MAX_CUSTOMERS:,}, got {customers}")
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if events_per_customer < 0:
        raise ValueError(f"events_per_customer must be >= 0, got {events_per_customer}")

    landing_dir = Path(landing_dir)
    landing_dir.mkdir(parents=True, exist_ok=True)
    staging = landing_dir / ".demo-data-staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        generator = _Generator(
            staging, customers, days, events_per_customer, seed, end_date, show_progress
        )
        counts = generator.run()
        for name in TABLES:
            _replace_table(landing_dir, staging, name)
        # Lets runs of these synthetic people use the public demo key (docs/threat-model.md);
        # the loader never reads files starting with "_".
        mark_as_demo_data(landing_dir, {"written_by": "privacy-pipeline demo-data",
                                        "customers": customers, "days": days, "seed": seed,
                                        "end_date": end_date.isoformat()})  # fmt: skip
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info(
        "demo landing zone in %s: %s",
        landing_dir,
        ", ".join(f"{name}={rows:,}" for name, rows in counts.items()),
    )
    return counts


def _table_path(folder: Path, name: str) -> Path:
    fmt = TABLE_FORMATS[name]
    return folder / (name if fmt == "parquet-folder" else f"{name}.{fmt}")


def _replace_table(landing_dir: Path, staging: Path, name: str) -> None:
    for old in (landing_dir / f"{name}{ext}" for ext in ("", ".csv", ".csv.gz", ".parquet")):
        if old.is_dir():
            shutil.rmtree(old)
        elif old.exists():
            old.unlink()
    _table_path(staging, name).rename(_table_path(landing_dir, name))


class _Generator:
    def __init__(
        self,
        out: Path,
        customers: int,
        days: int,
        events_per_customer: int,
        seed: int,
        end_date: dt.date,
        show_progress: bool,
    ) -> None:
        self.out = out
        self.customers = customers
        self.days = days
        self.events_per_customer = events_per_customer
        self.seed = seed
        self.end_date = end_date
        self.window = _Window.ending(end_date, days)
        self.areas = build_postal_areas(_postal_area_count(customers))
        self.area_index = {a.postal_code: i for i, a in enumerate(self.areas)}
        self._cells()
        self.show_progress = show_progress
        self.counts: dict[str, int] = {}
        self.work = out / ".work"  # scratch files, removed with the staging folder
        self.active_customers = self.work / "active_customers.parquet"
        self.con = duckdb.connect()
        tmp = self.work / "duckdb-tmp"
        for setting in (
            "SET TimeZone = 'UTC'",
            "SET enable_progress_bar = false",  # one progress bar: ours
            f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'",
            f"SET temp_directory = {quote_literal(tmp.as_posix())}",
            # Kept on (the default): byte-identical output needs order-preserving writes.
            "SET preserve_insertion_order = true",
            # Parquet files come out the same for any thread count but one (DuckDB then
            # takes another write path), so a single-core machine still runs two threads.
            f"SET threads = {max(2, os.cpu_count() or 2)}",
        ):
            self.con.execute(setting)

    def salt(self, name: str) -> int:
        return _salt(self.seed, name)

    def u(self, key: str, name: str) -> str:
        """SQL for a uniform draw in [0, 1) keyed by ``key`` for the draw called ``name``."""
        return f"uniform({key}, {self.salt(name)})"

    def copy(self, name: str, query: str, target: Path | None = None) -> int:
        fmt = TABLE_FORMATS[name]
        path = target or _table_path(self.out, name)
        if fmt.startswith("csv"):
            options = "HEADER, DELIMITER ','" + (", COMPRESSION gzip" if fmt == "csv.gz" else "")
        else:
            options = "FORMAT parquet, COMPRESSION zstd"
        rows = self.con.execute(f"COPY ({query}) TO ? ({options})", [path.as_posix()]).fetchone()
        written = int(rows[0]) if rows else 0
        self.counts[name] = self.counts.get(name, 0) + written
        return written

    # -- orchestration -------------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        try:
            self._macros()
            chunks = self._network_chunks()
            steps = [
                ("reference tables", self._reference_tables),
                ("customers", self._customers),
                ("active customers", self._write_active_customers),
                ("privacy_preferences", self._privacy_preferences),
                ("survey_responses", self._survey_responses),
                ("contest_entries", self._contest_entries),
                ("traffic_events", self._traffic_events),
                ("call_records", self._call_records),
                ("device_observations", self._device_observations),
            ]
            (self.out / "network_events").mkdir()
            with tqdm(
                total=len(steps) + len(chunks),
                desc="demo-data",
                unit="step",
                disable=not self.show_progress,
            ) as bar:
                for label, step in steps:
                    bar.set_postfix_str(label)
                    step()
                    bar.update()
                for number, (first, last) in enumerate(chunks):
                    bar.set_postfix_str(f"network_events {number + 1}/{len(chunks)}")
                    self._network_events(number, first, last)
                    bar.update()
        finally:
            self.con.close()
        return {name: self.counts.get(name, 0) for name in TABLES}

    def _macros(self) -> None:
        con = self.con
        # DuckDB's multi-argument hash XORs the arguments' hashes, so hash(k, a) and
        # hash(k, b) are not independent draws: re-hash after mixing in the salt instead.
        con.execute("CREATE MACRO mix(k, s) AS hash(xor(hash(k), (s)::UBIGINT))")
        con.execute("CREATE MACRO uniform(k, s) AS (mix(k, s) >> 11)::DOUBLE / 9007199254740992.0")
        # Local wall-clock time with its offset, e.g. 2026-06-20T08:15:00+02:00.
        con.execute(
            """
            CREATE MACRO iso_local(epoch_s) AS
                strftime(timezone('Europe/Brussels', to_timestamp(epoch_s)), '%Y-%m-%dT%H:%M:%S')
                || printf('%+03d:00', ((epoch(timezone('Europe/Brussels', to_timestamp(epoch_s)))
                                        - epoch_s) // 3600)::INT)
            """
        )
        con.execute(
            "CREATE MACRO iso_utc(epoch_s) AS strftime(to_timestamp(epoch_s), '%Y-%m-%dT%H:%M:%SZ')"
        )
        # Postal areas, largest first, with P(rank r) ~ 1 / (r + 1.5): a log-uniform draw.
        areas = len(self.areas)
        con.execute(
            f"CREATE MACRO zipf_area(u) AS "
            f"least({areas - 1}, floor(exp(u * {math.log(areas + 1)!r}))::BIGINT - 1)"
        )
        # Short constant lists for the per-customer draws...
        _list_macro(con, "postal_code_of", [a.postal_code for a in self.areas])
        _list_macro(con, "interest_of", _buckets(list(INTERESTS.values()), 1024))
        _list_macro(con, "first_name_of", FIRST_NAMES)
        _list_macro(con, "last_name_of", LAST_NAMES)
        _list_macro(con, "email_domain_of", EMAIL_DOMAINS)
        handsets = list(HANDSETS)
        _list_macro(
            con, "handset_of", [handsets[i] for i in _buckets(list(HANDSETS.values()), 1024)]
        )
        # ... but the per-event lookups come from a one-row table joined in: DuckDB rebuilds
        # a list literal for every vector of rows, which costs more than the rest of the query.
        sites = _buckets([w for _, _, w in SITES], SITE_BUCKETS)  # 0: everyone's browsing
        for interest in INTERESTS:  # 1 + i: sites of interest i
            members = [n for n, site in enumerate(SITES) if site[1] == interest]
            sites += [members[i] for i in _buckets([SITES[n][2] for n in members], SITE_BUCKETS)]
        devices = list(HOME_DEVICES)
        lookups = {  # name: (SQL type, values)
            "lk_hours": ("INTEGER[]", _buckets(HOUR_WEIGHTS, HOUR_BUCKETS)),
            "lk_day_starts": ("BIGINT[]", list(self.window.day_starts)),
            "lk_day_lengths": ("BIGINT[]", list(self.window.day_lengths)),
            "lk_workdays": ("BOOLEAN[]", list(self.window.workdays)),
            "lk_sites": ("INTEGER[]", sites),
            "lk_site_names": ("VARCHAR[]", [name for name, _, _ in SITES]),
            "lk_home_devices": (
                "VARCHAR[]",
                [devices[i] for i in _buckets(list(HOME_DEVICES.values()), DEVICE_BUCKETS)],
            ),
            "lk_cells": ("VARCHAR[]", self.cell_slots),
        }
        columns = ", ".join(f"${name}::{kind} AS {name}" for name, (kind, _) in lookups.items())
        con.execute(
            f"CREATE TABLE lookups AS SELECT {columns}",
            {name: values for name, (_, values) in lookups.items()},
        )

    # -- reference tables ----------------------------------------------------------------------

    def _cells(self) -> None:
        """Cells per postal area (more in big cities) and the events' dedicated cells.

        ``cell_slots[CELL_SLOTS * a + slot]`` is the cell of a network event in area ``a``;
        area ``len(areas) + e`` stands for the cells of public event ``e``.
        """
        rng = random.Random(f"cells-{len(self.areas)}")
        self.cell_rows: list[tuple] = []
        self.cell_slots: list[str] = []

        def add_cells(area: PostalArea, count: int, spread: float) -> list[str]:
            ids = []
            for _ in range(count):
                ids.append(f"CELL{len(self.cell_rows) + 1:05d}")
                lat = round(area.lat + rng.uniform(-spread, spread), 5)
                lon = round(area.lon + rng.uniform(-spread, spread) * 1.5, 5)
                self.cell_rows.append(
                    (ids[-1], area.postal_code, area.municipality, area.province, lat, lon)
                )
            self.cell_slots += [ids[slot % count] for slot in range(CELL_SLOTS)]
            return ids

        for rank, area in enumerate(self.areas):
            add_cells(area, cells_in_area(rank), 0.015)
        self.event_cells = [
            add_cells(self.areas[self.area_index[event.postal_code]], event.cells, 0.003)
            for event in PUBLIC_EVENTS
        ]

    def _values(self, columns: str, rows: Sequence[Sequence[object]]) -> str:
        body = ",\n".join("(" + ", ".join(_sql_literal(v) for v in row) + ")" for row in rows)
        return f"SELECT * FROM (VALUES {body}) AS t({columns})"

    def _event_bounds(self, event: PublicEvent) -> tuple[int, int]:
        start = _local_epoch(self.end_date + dt.timedelta(days=event.starts[0]), event.starts[1])
        end = _local_epoch(self.end_date + dt.timedelta(days=event.ends[0]), event.ends[1])
        return start, end

    def _reference_tables(self) -> None:
        self.copy(
            "cells",
            "SELECT * REPLACE (lat::DOUBLE AS lat, lon::DOUBLE AS lon) FROM ("
            + self._values("cell_id, postal_code, municipality, province, lat, lon", self.cell_rows)
            + ") ORDER BY cell_id",
        )
        events = []
        for number, event in enumerate(PUBLIC_EVENTS, start=1):
            start, end = self._event_bounds(event)
            events.append((f"EV{number:02d}", event.name, start, end))
        self.copy(
            "events",
            "SELECT event_id, name, to_timestamp(s) AS starts_at, to_timestamp(e) AS ends_at "
            f"FROM ({self._values('event_id, name, s, e', events)}) ORDER BY event_id",
        )
        links = [
            (f"EV{number:02d}", cell)
            for number, ids in enumerate(self.event_cells, start=1)
            for cell in ids
        ]
        self.copy("event_cells", self._values("event_id, cell_id", links) + " ORDER BY ALL")
        self.copy(
            "partners",
            "SELECT partner_id, name, target_interest::VARCHAR AS target_interest FROM ("
            + self._values("partner_id, name, target_interest", PARTNERS)
            + ") ORDER BY partner_id",
        )
        self.copy(
            "site_catalogue",
            self._values("app_or_site, category", [(s, c) for s, c, _ in SITES if c])
            + " ORDER BY app_or_site",
        )
        self.copy(
            "surveys",
            self._values("survey_id, name", [(s[0], s[1]) for s in SURVEYS]) + " ORDER BY 1",
        )
        self.copy(
            "survey_questions",
            self._values("question_id, survey_id, text, interest, answer_kind", self._questions())
            + " ORDER BY question_id",
        )
        contests = []
        for contest_id, name, theme, partner, start_day, length in CONTESTS:
            start = _local_epoch(self.end_date + dt.timedelta(days=start_day), 9)
            end = _local_epoch(self.end_date + dt.timedelta(days=start_day + length), 23)
            contests.append((contest_id, name, theme, partner, start, end))
        self.contest_bounds = {c[0]: (c[4], c[5]) for c in contests}
        self.copy(
            "contests",
            "SELECT contest_id, name, theme, partner_id::VARCHAR AS partner_id, "
            "to_timestamp(s) AS starts_at, to_timestamp(e) AS ends_at FROM ("
            + self._values("contest_id, name, theme, partner_id, s, e", contests)
            + ") ORDER BY contest_id",
        )

    @staticmethod
    def _questions() -> list[tuple[str, str, str, str, str]]:
        return [
            (f"Q{survey_id[2:]}{number:02d}", survey_id, text, interest, kind)
            for survey_id, _, _, questions in SURVEYS
            for number, (text, interest, kind) in enumerate(questions, start=1)
        ]

    # -- customers -----------------------------------------------------------------------------

    def _customers(self) -> None:
        w = self.window
        n = self.customers
        width = max(7, len(str(n)))
        since_2005 = _epoch(dt.datetime(2005, 1, 1, tzinfo=BRUSSELS))
        migration_start = _local_epoch(self.end_date - dt.timedelta(days=MIGRATION_DAYS))
        msisdn_offset = self.salt("msisdn") % 30_000_000
        attends = []
        for number, event in enumerate(PUBLIC_EVENTS):
            share = min(event.share, event.cap / n)
            attends.append(f"{self.u('cnum', f'attends-{number}')} < {share!r} AS attends_{number}")
        u = self.u
        self.con.execute(
            f"""
            CREATE TABLE draws AS
            SELECT range AS cnum,
                {u("range", "brand")} AS u_brand,
                {u("range", "created")} AS u_created,
                {u("range", "migrated")} AS u_migrated,
                {u("range", "migrated-at")} AS u_migrated_at,
                {u("range", "closed")} AS u_closed,
                {u("range", "closed-at")} AS u_closed_at,
                {u("range", "activity-1")} AS u_act1,
                {u("range", "activity-2")} AS u_act2,
                {u("range", "activity-3")} AS u_act3
            FROM range({n})
            """
        )
        self.con.execute(
            f"""
            CREATE TABLE cust_base AS
            SELECT cnum,
                'CU' || lpad((cnum + 1)::VARCHAR, {width}, '0') AS customer_id,
                CASE WHEN u_brand < {SCARLET_SHARE} THEN 'scarlet' ELSE 'proximus' END AS brand,
                first_name_of(mix(cnum, {self.salt("first-name")}) % {len(FIRST_NAMES)})
                    AS first_name,
                last_name_of(mix(cnum, {self.salt("last-name")}) % {len(LAST_NAMES)})
                    AS last_name,
                '+324' || (70000000 + (cnum * 7368787 + {msisdn_offset}) % 30000000)::VARCHAR
                    AS msisdn,
                zipf_area({u("cnum", "home")})::INT AS home_area,
                zipf_area({u("cnum", "work")})::INT AS work_area,
                1940 + floor(34 * ({u("cnum", "birth-1")} + {u("cnum", "birth-2")}))::INT
                    AS birth_year,
                CASE WHEN u_brand < {SCARLET_SHARE}
                    -- Scarlet accounts predate the migration; Proximus ones are more recent.
                    THEN {since_2005} + floor(u_created * ({migration_start - 60 * DAY}
                                                          - {since_2005}))::BIGINT
                    ELSE {since_2005} + floor(sqrt(u_created) * ({w.first_start - 30 * DAY}
                                                                - {since_2005}))::BIGINT
                END AS created,
                CASE WHEN u_brand < {SCARLET_SHARE} AND u_migrated < {MIGRATED_SHARE}
                    THEN {migration_start}
                        + floor(u_migrated_at * ({w.run_end} - {migration_start}))::BIGINT
                END AS migrated_planned,
                u_closed < {CLOSED_SHARE} AS is_closed,
                u_closed_at,
                CASE WHEN u_act1 < {NO_MOBILE_SHARE} THEN 0.0
                    -- log-normal usage, mean 1: a few heavy users, most near the average
                    ELSE least(8.0, exp(0.7 * sqrt(-2 * ln(1 - u_act2)) * cos(2 * pi() * u_act3)
                                        - 0.245) / {1 - NO_MOBILE_SHARE})
                END AS activity,
                interest_of(mix(cnum, {self.salt("interest-1")}) & 1023) AS interest_1,
                ((interest_of(mix(cnum, {self.salt("interest-1")}) & 1023) + 1
                 + mix(cnum, {self.salt("interest-2")}) % {len(INTERESTS) - 1})
                    % {len(INTERESTS)})::INT AS interest_2,
                {u("cnum", "fixed")} < {FIXED_INTERNET_SHARE} AS has_fixed,
                handset_of(mix(cnum, {self.salt("handset")}) & 1023) AS handset,
                email_domain_of(mix(cnum, {self.salt("email")}) % {len(EMAIL_DOMAINS)})
                    AS email_domain,
                {", ".join(attends)}
            FROM draws
            ORDER BY cnum
            """
        )
        self.con.execute(
            f"""
            CREATE TABLE cust AS
            SELECT * EXCLUDE (migrated_planned, is_closed, u_closed_at, closed_planned),
                -- an account closed before its migration was never migrated
                CASE WHEN closed_planned IS NULL OR migrated_planned < closed_planned
                    THEN migrated_planned END AS migrated,
                closed_planned AS closed
            FROM (
                SELECT *,
                    CASE WHEN is_closed
                        AND greatest(created + {DAY}, {w.first_start}
                                     - floor(u_closed_at * 365 * {DAY})::BIGINT) < {w.first_start}
                        THEN greatest(created + {DAY}, {w.first_start}
                                      - floor(u_closed_at * 365 * {DAY})::BIGINT)
                    END AS closed_planned
                FROM cust_base
            )
            ORDER BY cnum
            """
        )
        self.con.execute("DROP TABLE draws; DROP TABLE cust_base")
        self.copy(
            "customers",
            """
            SELECT customer_id, brand, first_name || ' ' || last_name AS full_name,
                lower(regexp_replace(strip_accents(first_name || '.' || last_name),
                                     '[^A-Za-z.]', '', 'g'))
                    || '.' || (cnum + 1)::VARCHAR || '@' || email_domain AS email,
                msisdn, postal_code_of(home_area) AS postal_code, birth_year,
                iso_utc(created) AS created_at, iso_utc(closed) AS closed_at,
                iso_utc(migrated) AS migrated_at
            FROM cust ORDER BY cnum
            """,
        )

    # -- consent ledger ------------------------------------------------------------------------

    def _privacy_preferences(self) -> None:
        run_end = self.window.run_end
        steps = [
            f"""
            SELECT cnum, customer_id,
                CASE WHEN brand = 'scarlet' THEN created END AS legacy_start,
                CASE WHEN brand = 'scarlet'
                    THEN least(coalesce(migrated, {run_end}), coalesce(closed, {run_end}))
                END AS legacy_end,
                -- the Proximus preference centre dates from the GDPR (25 May 2018)
                CASE WHEN brand = 'proximus' THEN greatest(created, {PREFERENCE_CENTRE_EPOCH})
                    ELSE migrated END AS proximus_start,
                least(coalesce(closed, {run_end}), {run_end}) AS proximus_end,
                closed IS NULL AS is_open
            FROM cust
            """
        ]
        for number, rule in enumerate(CONSENT_RULES):
            prefix = "legacy" if rule.platform == "scarlet_legacy" else "proximus"
            start, end = f"{prefix}_start", f"{prefix}_end"
            draw = self.u("cnum", f"consent-{number}")
            when = self.u("cnum", f"consent-{number}-at")
            if rule.late:
                eligible = f"is_open AND {start} IS NOT NULL AND {end} = {run_end}" + (
                    "" if prefix == "proximus" else " AND proximus_start IS NULL"
                )
                # Between ten minutes and three days after the run date.
                at = f"{run_end} + 600 + floor({when} * {3 * DAY - 600})::BIGINT"
            else:
                begin = f"at_{rule.after}" if rule.after is not None else start
                eligible = f"{start} IS NOT NULL AND {end} - {start} > {DAY}"
                if rule.after is not None:
                    eligible += f" AND fired_{rule.after} AND {end} - at_{rule.after} > 3600"
                at = f"{begin} + floor((0.01 + 0.98 * {when}) * ({end} - {begin}))::BIGINT"
            if rule.requires is not None:
                eligible += f" AND fired_{rule.requires}"
            if rule.unless is not None:
                eligible += f" AND NOT fired_{rule.unless}"
            fired = f"coalesce({eligible} AND {draw} < {rule.share!r}, false)"
            steps.append(
                f"SELECT *, {fired} AS fired_{number}, "
                f"CASE WHEN {fired} THEN {at} END AS at_{number} FROM step_{number}"
            )
        # Materialised once: every rule's branch of the union below reads it.
        ctes = ",\n".join(f"step_{i} AS ({sql})" for i, sql in enumerate(steps))
        self.con.execute(
            f"CREATE TABLE consent_draws AS WITH {ctes} SELECT * FROM step_{len(steps) - 1} "
            "ORDER BY cnum"
        )
        width = len(str(self.customers * len(CONSENT_RULES)))
        unions = []
        for number, rule in enumerate(CONSENT_RULES):
            channel = _choice_case(
                self.u("cnum", f"consent-{number}-channel"), CHANNEL_WEIGHTS[rule.platform]
            )
            unions.append(
                f"""
                SELECT 'PE' || lpad((cnum * {len(CONSENT_RULES)} + {number})::VARCHAR,
                                    {width}, '0') AS event_id,
                    customer_id, '{rule.purpose}' AS purpose, '{rule.choice}' AS choice,
                    {channel} AS channel, '{rule.platform}' AS platform, at_{number} AS at_s
                FROM consent_draws WHERE fired_{number}
                """
            )
        self.copy(
            "privacy_preferences",
            f"""
            SELECT event_id, customer_id, purpose, choice, channel, platform,
                iso_local(at_s) AS recorded_at
            FROM ({" UNION ALL ".join(unions)})
            ORDER BY at_s, event_id
            """,
        )
        self.con.execute("DROP TABLE consent_draws")

    # -- engagement ----------------------------------------------------------------------------

    def _survey_responses(self) -> None:
        run_end = self.window.run_end
        questions = self._questions()
        width = len(str(self.customers * len(questions)))
        interest_number = {name: i for i, name in enumerate(INTERESTS)}
        unions = []
        for survey_number, (survey_id, _, (opens, closes), _) in enumerate(SURVEYS):
            start = _local_epoch(self.end_date - dt.timedelta(days=opens), 8)
            end = min(run_end, _local_epoch(self.end_date - dt.timedelta(days=closes), 22))
            begin = f"greatest(created, {start})"
            finish = f"least(coalesce(closed, {end}), {end})"
            # Leaves ten minutes for the questions, answered 17 s apart.
            answered = (
                f"{begin} + floor({self.u('cnum', f'survey-{survey_number}-at')}"
                f" * ({finish} - {begin} - 600))::BIGINT"
            )
            for q_number, (question_id, q_survey, _, interest, kind) in enumerate(questions):
                if q_survey != survey_id:
                    continue
                likes = f"{interest_number[interest]} IN (interest_1, interest_2)"
                a = self.u("cnum", f"answer-{question_id}")
                answer = {
                    "count": f"(CASE WHEN {likes} THEN 2 + floor({a} * 10)"
                    f" ELSE floor({a} * {a} * 4) END)::INT::VARCHAR",
                    "yes_no": f"CASE WHEN {a} < (CASE WHEN {likes} THEN 0.85 ELSE 0.2 END)"
                    " THEN 'yes' ELSE 'no' END",
                    "rating_1_5": f"(CASE WHEN {likes} THEN 4 + floor({a} * 1.7)"
                    f" ELSE 1 + floor({a} * 3) END)::INT::VARCHAR",
                }[kind]
                unions.append(
                    f"""
                    SELECT cnum, {q_number} AS q,
                        'SR' || lpad((cnum * {len(questions)} + {q_number})::VARCHAR,
                                     {width}, '0') AS response_id,
                        customer_id, '{question_id}' AS question_id, {answer} AS answer,
                        to_timestamp({answered} + {q_number * 17}) AS answered_at
                    FROM cust
                    WHERE {self.u("cnum", f"survey-{survey_number}")} < {SURVEY_RESPONSE_RATE}
                        AND {finish} - {begin} > 3600
                    """
                )
        self.copy(
            "survey_responses",
            f"SELECT response_id, customer_id, question_id, answer, answered_at "
            f"FROM ({' UNION ALL '.join(unions)}) ORDER BY cnum, q",
        )

    def _contest_entries(self) -> None:
        run_end = self.window.run_end
        width = len(str(self.customers * len(CONTESTS)))
        interest_number = {name: i for i, name in enumerate(INTERESTS)}
        unions = []
        for number, (contest_id, _, theme, _, _, _) in enumerate(CONTESTS):
            start, end = self.contest_bounds[contest_id]
            begin = f"greatest(created, {start})"
            finish = f"least(coalesce(closed, {run_end}), {run_end}, {end})"
            likes = f"{interest_number[theme]} IN (interest_1, interest_2)"
            share = f"CASE WHEN {likes} THEN 0.22 ELSE 0.02 END"
            unions.append(
                f"""
                SELECT cnum, {number} AS c,
                    'CE' || lpad((cnum * {len(CONTESTS)} + {number})::VARCHAR, {width}, '0')
                        AS entry_id,
                    customer_id, '{contest_id}' AS contest_id,
                    iso_local({begin} + floor({self.u("cnum", f"contest-{number}-at")}
                                              * ({finish} - {begin}))::BIGINT) AS entered_at
                FROM cust
                WHERE {self.u("cnum", f"contest-{number}")} < {share}
                    AND {finish} - {begin} > 3600
                """
            )
        self.copy(
            "contest_entries",
            f"SELECT entry_id, customer_id, contest_id, entered_at "
            f"FROM ({' UNION ALL '.join(unions)}) ORDER BY cnum, c",
        )

    # -- activity ------------------------------------------------------------------------------

    def _write_active_customers(self) -> None:
        """Open accounts with what activity needs, in small row groups (see ACTIVE_ROW_GROUP)."""
        self.work.mkdir(exist_ok=True)
        attends = ", ".join(f"attends_{e}" for e in range(len(PUBLIC_EVENTS)))
        self.con.execute(
            f"""
            COPY (SELECT cnum, customer_id, msisdn, home_area, work_area, activity, has_fixed,
                         interest_1, interest_2, handset, {attends}
                  FROM cust WHERE closed IS NULL ORDER BY cnum)
            TO {quote_literal(self.active_customers.as_posix())}
            (FORMAT parquet, ROW_GROUP_SIZE {ACTIVE_ROW_GROUP})
            """
        )
        activity = self.con.execute("SELECT sum(activity) FROM cust WHERE closed IS NULL")
        self.open_activity = activity.fetchone()[0] or 0.0

    def _activity_rows(
        self, per_day: str, salt_name: str, extra: str = "", where: str = "TRUE"
    ) -> str:
        """One row per (open customer, day, i < per_day) with its hash ``h`` and local time.

        ``k`` numbers the rows of a customer's day, ``local_hour`` is drawn from HOUR_WEIGHTS
        and ``at_s`` is the epoch second, squeezed into the day's real length on
        daylight-saving days. The ``lk_*`` lookup lists are joined in. Bits 0-21 of ``h`` are
        used here; callers use the others.
        """
        return f"""
            SELECT *, lk_day_starts[day + 1]
                + (local_hour * 3600 + second_in_hour) * lk_day_lengths[day + 1] // 86400
                    AS at_s
            FROM (
                SELECT *, i // n AS day, i % n AS k,
                    lk_hours[(h & 255)::BIGINT + 1] AS local_hour,
                    (((h >> 10) & 4095) % 3600)::BIGINT AS second_in_hour
                FROM (
                    SELECT *, mix(mix(cnum, {self.salt(salt_name)}), i) AS h
                    FROM (
                        SELECT *, unnest(range(n * {self.days})) AS i
                        FROM (SELECT *, ({per_day})::BIGINT AS n {extra}
                              FROM read_parquet({quote_literal(self.active_customers.as_posix())})
                              WHERE {where})
                    )
                ) CROSS JOIN lookups
            )
        """

    @staticmethod
    def _bits(shift: int, width: int) -> str:
        """SQL for ``width`` bits of ``h`` from bit ``shift``, as a BIGINT."""
        return f"((h >> {shift}) & {(1 << width) - 1})::BIGINT"

    def _traffic_events(self) -> None:
        per_day = (
            f"floor({TRAFFIC_PER_DAY} * (activity + CASE WHEN has_fixed THEN 0.5 ELSE 0 END)"
            f" + {self.u('cnum', 'traffic-count')})"
        )
        bits = self._bits
        interest = f"CASE WHEN {bits(42, 1)} = 0 THEN interest_1 ELSE interest_2 END"
        # 40% of browsing follows the customer's interests, the rest general popularity.
        pool = f"CASE WHEN {bits(32, 10)} < 410 THEN {interest} + 1 ELSE 0 END"
        site = f"lk_sites[{pool} * {SITE_BUCKETS} + {bits(43, 20)} % {SITE_BUCKETS} + 1]"
        self.copy(
            "traffic_events",
            f"""
            SELECT customer_id, to_timestamp(at_s) AS observed_at,
                -- customers without mobile data browse from home only
                CASE WHEN has_fixed AND (activity = 0 OR {bits(22, 10)} < 500) THEN 'fixed'
                    ELSE 'mobile' END AS network,
                lk_site_names[{site} + 1] AS app_or_site,
                -- log-normal volumes, median 100 kB
                least(2000000000, greatest(64, round(exp(11.5 + 1.6
                    * sqrt(-2 * ln(1 - uniform(h, 1))) * cos(2 * pi() * uniform(h, 2))))))::BIGINT
                    AS bytes
            FROM ({self._activity_rows(per_day, "traffic")})
            """,
        )

    def _call_records(self) -> None:
        per_day = f"floor({CALLS_PER_DAY} * sqrt(activity) + {self.u('cnum', 'call-count')})"
        number = {
            # Belgian mobile, Belgian landline (Brussels, Antwerpen, Gent, Liège), abroad.
            "mobile": "'+324' || (70000000 + h2 % 30000000)::VARCHAR",
            "landline": "'+32' || ['2', '3', '9', '4'][(1 + (h2 >> 40) % 4)::BIGINT] "
            "|| (1000000 + h2 % 9000000)::VARCHAR",
            "abroad": "['+336', '+316', '+491'][(1 + (h2 >> 40) % 3)::BIGINT] "
            "|| (10000000 + h2 % 90000000)::VARCHAR",
        }
        kind = _choice_case("uniform(h, 3)", {"mobile": 60, "landline": 30, "abroad": 10})
        self.copy(
            "call_records",
            f"""
            SELECT customer_id, to_timestamp(at_s) AS started_at,
                -- log-normal durations, median 90 s
                to_timestamp(at_s + greatest(3, round(exp(4.5 + 1.0
                    * sqrt(-2 * ln(1 - uniform(h, 1))) * cos(2 * pi() * uniform(h, 2)))))::BIGINT)
                    AS ended_at,
                CASE {kind} {" ".join(f"WHEN '{k}' THEN {v}" for k, v in number.items())} END
                    AS called_number,
                CASE WHEN {self._bits(22, 10)} < 600 THEN 'outgoing' ELSE 'incoming' END
                    AS direction
            FROM (SELECT *, mix(h, 4) AS h2 FROM ({self._activity_rows(per_day, "calls")}))
            """,
        )

    def _device_observations(self) -> None:
        # Per day: 1-3 handset sightings, plus each home device of fixed-internet customers
        # (the same devices every day; gamers' first home device is a game console).
        handsets = f"1 + mix(cnum, {self.salt('handset-sightings')}) % 3"
        home = f"CASE WHEN has_fixed THEN mix(cnum, {self.salt('home-devices')}) % 5 ELSE 0 END"
        rows = self._activity_rows(f"{handsets} + {home}", "devices", f", {handsets} AS n_handset")
        gaming = list(INTERESTS).index("gaming")
        device_draw = f"(mix(mix(cnum, {self.salt('home-device')}), k) % {DEVICE_BUCKETS})"
        device = (
            f"CASE WHEN k = n_handset AND {gaming} IN (interest_1, interest_2) "
            f"THEN 'game_console' ELSE lk_home_devices[{device_draw}::BIGINT + 1] END"
        )
        self.copy(
            "device_observations",
            f"""
            SELECT customer_id, to_timestamp(at_s) AS observed_at,
                CASE WHEN k < n_handset THEN 'handset' ELSE 'home_device' END AS kind,
                CASE WHEN k < n_handset THEN handset ELSE {device} END AS model,
                CASE WHEN k < n_handset THEN
                        CASE WHEN uniform(h, 1) < 0.1 THEN NULL
                             WHEN uniform(h, 1) < 0.55 THEN 'connected' ELSE 'disconnected' END
                    ELSE CASE WHEN uniform(h, 1) < 0.15 THEN NULL ELSE 'connected' END
                END AS wifi_state
            FROM ({rows})
            """,
        )

    # -- network events ------------------------------------------------------------------------

    def _network_chunks(self) -> list[tuple[int, int]]:
        """Customer-number ranges of about NETWORK_ROWS_PER_FILE events each."""
        per_customer = max(1, self.events_per_customer * self.days)
        size = max(1, NETWORK_ROWS_PER_FILE // per_customer)
        return [
            (first, min(first + size, self.customers)) for first in range(0, self.customers, size)
        ]

    def _network_events(self, number: int, first: int, last: int) -> None:
        """One file of network events: customers ``first`` to ``last`` (excluded)."""
        bits = self._bits
        # Bits of h: 22-31 where the customer is, 32-51 roaming area, 46-55 at the public
        # event or not, 56-58 which cell of the area (bit fields may overlap when they are
        # never used together).
        crowd = []
        for e, event in enumerate(PUBLIC_EVENTS):
            start, end = self._event_bounds(event)
            if end <= self.window.first_start or start >= self.window.run_end:
                continue
            crowd.append(
                f"WHEN attends_{e} AND at_s >= {start} AND at_s < {end} "
                f"AND {bits(46, 10)} < {round(EVENT_CELL_SHARE * 1024)} "
                f"THEN {len(self.areas) + e}"
            )
        where = bits(22, 10)
        area = f"""
            CASE {" ".join(crowd)}
                -- nights at home; days mostly at home, at work on workdays, else anywhere
                WHEN local_hour < 7 OR {where} < 720 THEN home_area
                WHEN {where} < 880 THEN CASE
                    WHEN lk_workdays[day + 1] AND local_hour BETWEEN 8 AND 17 THEN work_area
                    ELSE home_area END
                ELSE zipf_area({bits(32, 20)} / 1048576.0)
            END
        """
        # events_per_customer is the mean over every customer: closed accounts have none, so
        # the open ones share customers x events_per_customer a day in proportion to their
        # activity (floor(x + u) has mean x).
        per_activity = self.events_per_customer * self.customers / max(self.open_activity, 1e-9)
        per_day = f"floor({per_activity!r} * activity + {self.u('cnum', 'network-count')})"
        rows = self._activity_rows(per_day, "network", where=f"cnum >= {first} AND cnum < {last}")
        query = f"""
            SELECT msisdn, lk_cells[({area}) * {CELL_SLOTS} + {bits(56, 3)} + 1] AS cell_id,
                to_timestamp(at_s) AS event_at
            FROM ({rows})
        """
        target = self.out / "network_events" / f"part-{number:05d}.parquet"
        self.copy("network_events", query, target)
