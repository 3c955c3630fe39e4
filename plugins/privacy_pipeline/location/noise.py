"""Optional differential privacy for the location counts, with OpenDP.

* The privacy budget (epsilon, and delta for Gaussian noise) is per run date and covers
  every location table together.
* Contribution bounding happens in SQL before counting (``int_location__dp_bounded_person_hours``):
  a person adds at most ``3 * max_hours_per_person * max_postal_codes_per_person_hour``
  presence counts (postal code, municipality, province) and
  ``max_events_per_person * (max_event_hours_per_person + 1)`` event counts, each by 1.
  That bound is the sensitivity OpenDP calibrates the noise to.
* Noise is integer (discrete Laplace / discrete Gaussian), drawn by OpenDP's sampler,
  and kept in a ledger: recomputing the same cell of the same date with the same
  settings reuses the noise, so rerunning a date cannot be averaged out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from privacy_pipeline.errors import ConfigError
from privacy_pipeline.location.disclosure import FigureKey

MECHANISMS = ("laplace", "gaussian")
LEDGER_TABLE = "location_noise"


@dataclass(frozen=True)
class DpSettings:
    enabled: bool
    mechanism: str
    epsilon_per_day: float
    delta_per_day: float
    max_hours_per_person: int
    max_postal_codes_per_person_hour: int
    max_events_per_person: int
    max_event_hours_per_person: int
    noise_ledger: str

    @property
    def contributions_per_person(self) -> int:
        """How many counts one person can change (each by at most 1) on one day."""
        presence = 3 * self.max_hours_per_person * self.max_postal_codes_per_person_hour
        events = self.max_events_per_person * (self.max_event_hours_per_person + 1)
        return presence + events

    @property
    def ledger_key(self) -> str:
        """Noise drawn under other settings is never reused: it has another scale."""
        return (
            f"{self.mechanism}:eps={self.epsilon_per_day}:delta={self.delta_per_day}"
            f":contributions={self.contributions_per_person}"
        )


DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "mechanism": "laplace",
    "epsilon_per_day": 1.0,
    "delta_per_day": 1e-9,
    "max_hours_per_person": 4,
    "max_postal_codes_per_person_hour": 1,
    "max_events_per_person": 1,
    "max_event_hours_per_person": 2,
    "noise_ledger": "private/location_noise.duckdb",
}


def dp_settings(location_config: Mapping[str, Any]) -> DpSettings:
    """Validated ``location.dp`` settings; refuses values that would weaken the promise."""
    raw = {**DEFAULTS, **(location_config.get("dp") or {})}
    unknown = set(raw) - set(DEFAULTS)
    if unknown:
        raise ConfigError(f"location.dp: unknown settings {sorted(unknown)}")
    if raw["mechanism"] not in MECHANISMS:
        raise ConfigError(f"location.dp.mechanism must be one of {MECHANISMS}")
    settings = DpSettings(
        enabled=bool(raw["enabled"]),
        mechanism=raw["mechanism"],
        epsilon_per_day=float(raw["epsilon_per_day"]),
        delta_per_day=float(raw["delta_per_day"]),
        max_hours_per_person=int(raw["max_hours_per_person"]),
        max_postal_codes_per_person_hour=int(raw["max_postal_codes_per_person_hour"]),
        max_events_per_person=int(raw["max_events_per_person"]),
        max_event_hours_per_person=int(raw["max_event_hours_per_person"]),
        noise_ledger=str(raw["noise_ledger"]),
    )
    if not settings.epsilon_per_day > 0:
        raise ConfigError("location.dp.epsilon_per_day must be > 0")
    if settings.mechanism == "gaussian" and not 0 < settings.delta_per_day < 1e-3:
        raise ConfigError("location.dp.delta_per_day must be in (0, 0.001) for gaussian noise")
    bounds = (
        "max_hours_per_person",
        "max_postal_codes_per_person_hour",
        "max_events_per_person",
        "max_event_hours_per_person",
    )
    for name in bounds:
        if getattr(settings, name) < 1:
            raise ConfigError(f"location.dp.{name} must be >= 1")
    return settings


def noise_measurement(settings: DpSettings):
    """The OpenDP measurement adding calibrated integer noise to a vector of counts."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    contributions = settings.contributions_per_person
    if settings.mechanism == "laplace":
        space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
        scale = dp.binary_search_param(
            lambda s: space >> dp.m.then_laplace(scale=s),
            d_in=contributions,
            d_out=settings.epsilon_per_day,
        )
        return space >> dp.m.then_laplace(scale=scale)
    # Each of the `contributions` counts moves by at most 1: L2 sensitivity sqrt(n).
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l2_distance(T=float)

    def approximate_dp_gaussian(scale: float):
        zcdp = space >> dp.m.then_gaussian(scale=scale)
        return dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(zcdp), delta=settings.delta_per_day)

    scale = dp.binary_search_param(
        approximate_dp_gaussian,
        d_in=math.sqrt(contributions),
        d_out=(settings.epsilon_per_day, settings.delta_per_day),
    )
    return space >> dp.m.then_gaussian(scale=scale)


def ledger_path(settings: DpSettings, warehouse_dir: Path) -> Path:
    path = Path(settings.noise_ledger)
    return path if path.is_absolute() else warehouse_dir / path


def figure_ref(key: FigureKey) -> str:
    return f"{key.table}|{key.level}|{key.id}|{'' if key.hour is None else key.hour}"


def noisy_counts(
    true_counts: Mapping[FigureKey, int],
    settings: DpSettings,
    run_date: str,
    ledger: Path,
) -> dict[FigureKey, int]:
    """True counts plus noise; noise already drawn for a cell of this date is reused."""
    keys: Sequence[FigureKey] = sorted(true_counts, key=figure_ref)
    stored = read_ledger(ledger, run_date, settings.ledger_key)
    missing = [key for key in keys if figure_ref(key) not in stored]
    if missing:
        measurement = noise_measurement(settings)
        released = measurement([int(true_counts[key]) for key in missing])
        fresh = {
            figure_ref(key): int(value) - int(true_counts[key])
            for key, value in zip(missing, released, strict=True)
        }
        write_ledger(ledger, run_date, settings.ledger_key, fresh)
        stored.update(fresh)
    return {key: int(true_counts[key]) + stored[figure_ref(key)] for key in keys}


def _connect_ledger(ledger: Path) -> duckdb.DuckDBPyConnection:
    ledger.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(ledger))
    con.execute(
        f"create table if not exists {LEDGER_TABLE} (run_date date, settings varchar, "
        "figure varchar, noise bigint, primary key (run_date, settings, figure))"
    )
    return con


def read_ledger(ledger: Path, run_date: str, settings_key: str) -> dict[str, int]:
    if not ledger.exists():
        return {}
    con = _connect_ledger(ledger)
    try:
        rows = con.execute(
            f"select figure, noise from {LEDGER_TABLE} where run_date = cast(? as date) "
            "and settings = ?",
            [run_date, settings_key],
        ).fetchall()
    finally:
        con.close()
    return dict(rows)


def write_ledger(ledger: Path, run_date: str, settings_key: str, noise: Mapping[str, int]) -> None:
    import pyarrow as pa

    fresh = pa.table({"figure": list(noise), "noise": [int(v) for v in noise.values()]})
    con = _connect_ledger(ledger)
    try:
        con.register("fresh_noise", fresh)
        con.execute(
            f"insert into {LEDGER_TABLE} select cast(? as date), ?, figure, noise "
            "from fresh_noise on conflict do nothing",
            [run_date, settings_key],
        )
    finally:
        con.close()
