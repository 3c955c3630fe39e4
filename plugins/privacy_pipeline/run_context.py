"""Where a run reads and writes: one object built from the DAG params, passed to every stage."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from privacy_pipeline.config import (
    CONFIG_FILE_KEY,
    configured_k,
    k_source,
    load_config,
    require_pseudonym_key,
    run_k,
)
from privacy_pipeline.errors import ConfigError

# The engines that build the models (docs/spark.md).
ENGINES = ("duckdb", "spark")


def run_window(run_date: dt.date, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the run date in local time, as UTC instants (23 or 25 h on DST days)."""
    zone = ZoneInfo(timezone)
    start = dt.datetime.combine(run_date, dt.time(), zone)
    end = dt.datetime.combine(run_date + dt.timedelta(days=1), dt.time(), zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


@dataclass(frozen=True)
class RunContext:
    landing_dir: Path
    warehouse_dir: Path
    run_date: dt.date
    k: int
    run_id: str = "manual"
    config: dict[str, Any] = field(default_factory=load_config, compare=False, repr=False)
    # The instant the run processes its input (UTC), fixed once when the run starts and
    # handed to every stage: the consent ledger's "first received" time, and the limit
    # after which a delivered instant cannot be true (docs/data-contract.md).
    processed_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    # The engine that builds the models: duckdb, or spark (privacy_pipeline.spark_engine).
    engine: str = "duckdb"

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        # Whatever builds a context, the gates and the models never see a k below the DPO's.
        if self.k < configured_k(self.config):
            raise ConfigError(
                f"k={self.k} is below k={configured_k(self.config)} set by "
                f"{k_source(self.config)}: refusing to run"
            )

    @classmethod
    def create(
        cls,
        landing_dir: str | Path,
        warehouse_dir: str | Path,
        run_date: str | dt.date,
        k: int | None = None,
        run_id: str = "manual",
        config: dict[str, Any] | None = None,
        k_from: str = "--k",
        reads_data: bool = True,
        processed_at: str | dt.datetime | None = None,
        engine: str | None = None,
    ) -> RunContext:
        """``k`` (named ``k_from`` in messages) or ``PRIVACY_PIPELINE_K`` may raise the
        configured k, never lower it (ConfigError, exit 2). A context that ``reads_data``
        (every run and stage) needs a pseudonym key (``config.require_pseudonym_key``)."""
        config = config if config is not None else load_config()
        k = run_k(config, k, k_from)
        if reads_data:
            require_pseudonym_key(landing_dir)
        if isinstance(run_date, str):
            try:
                run_date = dt.date.fromisoformat(run_date)
            except ValueError as exc:
                raise ConfigError(f"run_date must be YYYY-MM-DD, got {run_date!r}") from exc
        if isinstance(processed_at, str):
            processed_at = dt.datetime.fromisoformat(processed_at)
        processed_at = (processed_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        return cls(
            landing_dir=Path(landing_dir).resolve(),
            warehouse_dir=Path(warehouse_dir).resolve(),
            run_date=run_date,
            k=k,
            run_id=run_id,
            config=config,
            processed_at=processed_at,
            engine=engine or "duckdb",
        )

    @property
    def run_dir(self) -> Path:
        return self.warehouse_dir / "runs" / self.run_date.isoformat()

    @property
    def candidate_db(self) -> Path:
        """The run's working database: landing views, staging, intermediate, candidate marts."""
        return self.run_dir / "candidate.duckdb"

    @property
    def warehouse_db(self) -> Path:
        """The published tables."""
        return self.warehouse_dir / "warehouse.duckdb"

    @property
    def exports_dir(self) -> Path:
        """Every recipient's folder: ``<recipient>/run_date=D/`` (privacy_pipeline.publish)."""
        return self.warehouse_dir / "exports"

    @property
    def restricted_dir(self) -> Path:
        """Person-level material for the DPO only: never published, never exported."""
        return self.warehouse_dir / "restricted"

    @property
    def consent_ledger_db(self) -> Path:
        """The durable consent ledger: every privacy event ever received (consent_ledger.py)."""
        return self.restricted_dir / "consent_ledger.duckdb"

    @property
    def reports_dir(self) -> Path:
        return self.warehouse_dir / "reports"

    def dbt_vars(self) -> dict[str, Any]:
        """Everything dbt models may read with var(): the config and the landing contract.

        The same for every run of a configuration: the run date and k reach dbt through
        the environment (``privacy_pipeline.dbt_runner.dbt_environment``), so that dbt can
        reuse its parsed project across runs (changed vars force a full parse).
        """
        from privacy_pipeline.contract import dbt_contract

        location = {key: value for key, value in self.config["location"].items() if key != "k"}
        settings = {key: value for key, value in self.config.items() if key != CONFIG_FILE_KEY}
        return {
            **settings,
            "location": location,
            # The landing contract (tables, columns, enums, keys) for the staging models.
            "landing_contract": dbt_contract(),
        }
