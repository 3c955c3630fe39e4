"""Optional differential privacy: settings, OpenDP calibration, the noise ledger, and the
DP release through dbt (contribution bounding in SQL)."""

from __future__ import annotations

import copy
import math

import duckdb
import numpy as np
import pytest
from privacy_pipeline.config import load_config
from privacy_pipeline.errors import ConfigError
from privacy_pipeline.location.disclosure import area_figure, is_safe_difference, people_array
from privacy_pipeline.location.noise import (
    dp_settings,
    noise_measurement,
    noisy_counts,
    read_ledger,
)
from privacy_pipeline.location.release import decide_release

K = 15


def settings(**overrides):
    return dp_settings({"dp": {"enabled": True, **overrides}})


@pytest.mark.parametrize(
    "bad",
    [
        {"mechanism": "uniform"},
        {"epsilon_per_day": 0},
        {"mechanism": "gaussian", "delta_per_day": 0.1},
        {"max_hours_per_person": 0},
        {"epsilon": 1.0},
    ],
)
def test_unsafe_or_unknown_settings_are_refused(bad):
    with pytest.raises(ConfigError):
        settings(**bad)


def test_default_configuration_has_dp_off():
    assert dp_settings(load_config()["location"]).enabled is False


@pytest.mark.parametrize("mechanism", ["laplace", "gaussian"])
def test_noise_is_calibrated_to_the_daily_budget_and_the_contribution_bound(mechanism):
    chosen = settings(mechanism=mechanism, epsilon_per_day=0.5)
    measurement = noise_measurement(chosen)
    bound = chosen.contributions_per_person
    if mechanism == "laplace":
        assert measurement.map(d_in=bound) <= 0.5 + 1e-9
    else:
        # zCDP rho for L2 sensitivity sqrt(bound); converted, it must fit (0.5, delta).
        import opendp.prelude as dp

        approx = dp.c.make_fix_delta(
            dp.c.make_zCDP_to_approxDP(measurement), delta=chosen.delta_per_day
        )
        epsilon, delta = approx.map(d_in=math.sqrt(bound))
        assert epsilon <= 0.5 + 1e-9 and delta <= chosen.delta_per_day
    assert bound == 3 * 4 * 1 + 1 * (2 + 1)


def test_noise_is_reused_when_a_date_is_recomputed(tmp_path):
    ledger = tmp_path / "noise.duckdb"
    counts = {area_figure("postal_code", str(1000 + i), 0): 100 for i in range(200)}
    chosen = settings(epsilon_per_day=0.2)
    first = noisy_counts(counts, chosen, "2026-06-20", ledger)
    again = noisy_counts(counts, chosen, "2026-06-20", ledger)
    assert first == again
    assert any(value != 100 for value in first.values())  # noise was added
    other_day = noisy_counts(counts, chosen, "2026-06-21", ledger)
    assert other_day != first
    other_budget = noisy_counts(counts, settings(epsilon_per_day=0.3), "2026-06-20", ledger)
    assert other_budget != first
    assert len(read_ledger(ledger, "2026-06-20", chosen.ledger_key)) == 200


def test_dp_release_publishes_noisy_figures_that_pass_every_rule(tmp_path):
    people = {}
    for hour in range(24):
        first = people_array(range(60 + hour))
        second = people_array(range(1000, 1040))
        both = np.concatenate([first, second])
        people[area_figure("postal_code", "1000", hour)] = first
        people[area_figure("postal_code", "1001", hour)] = second
        people[area_figure("municipality", "M", hour)] = both
        people[area_figure("province", "P", hour)] = both
    config = {"dp": {"enabled": True, "epsilon_per_day": 1.0}}
    rows = decide_release(people, config, K, "2026-06-20", tmp_path)
    published = {
        (level, area, hour): (true, noisy)
        for _, level, area, hour, true, noisy, status in rows
        if status == "published"
    }
    assert published, "something is published"
    assert any(true != noisy for true, noisy in published.values())
    assert all(true >= K and noisy >= K for true, noisy in published.values())
    for (level, _, hour), (_, noisy) in published.items():
        if level == "municipality":
            children = [
                published[c][1] for c in published if c[0] == "postal_code" and c[2] == hour
            ]
            assert is_safe_difference(noisy - sum(children), K)
    again = decide_release(people, config, K, "2026-06-20", tmp_path)
    assert again == rows


def test_fixed_noise_does_not_let_a_republication_differ_by_less_than_k(tmp_path):
    # The noise of a figure is fixed (ledger): two releases differ by the true change,
    # exactly; a change of 1..k-1 is withheld, not published with the same noise.
    config = {"dp": {"enabled": True, "epsilon_per_day": 1.0}}
    key = area_figure("postal_code", "1000", 0)
    first = decide_release({key: people_array(range(200))}, config, K, "2026-06-20", tmp_path)
    held = {key: {first[0][5]}} if first[0][6] == "published" else {}
    second = decide_release(
        {key: people_array(range(1, 200))}, config, K, "2026-06-20", tmp_path, held=held
    )
    assert second[0][5] - first[0][5] == -1
    assert second[0][6] == ("suppressed_republication" if held else "published")


@pytest.fixture(scope="module")
def dp_candidate(tmp_path_factory):
    """The location models built by dbt with DP on, on the location scenario landing zone."""
    from privacy_pipeline.dbt_runner import run_dbt
    from privacy_pipeline.landing import load_landing_zone
    from privacy_pipeline.run_context import RunContext

    from tests.support.config import config_with_k
    from tests.support.landing import RUN_DATE, write_landing_zone
    from tests.test_location_presence import scenario_tables

    root = tmp_path_factory.mktemp("location-dp")
    landing = write_landing_zone(root / "landing", scenario_tables())
    config = copy.deepcopy(load_config(config_with_k(root, K)))
    config["location"]["dp"] |= {
        "enabled": True,
        "epsilon_per_day": 2.0,
        "max_hours_per_person": 1,
        "max_event_hours_per_person": 1,
    }
    ctx = RunContext.create(landing, root / "warehouse", RUN_DATE, k=K, config=config)
    ctx.run_dir.mkdir(parents=True)
    load_landing_zone(ctx)
    run_dbt(
        ctx, ["run", "--select", "+path:models/marts/location", "path:models/intermediate/location"]
    )
    run_dbt(
        ctx,
        [
            "test",
            "--select",
            "path:models/intermediate/location",
            "path:models/marts/location",
            "--indirect-selection",
            "cautious",
        ],
    )
    return ctx


def candidate_rows(ctx, sql):
    # dbt-duckdb keeps its (read-write) connection open in this process: share it.
    con = duckdb.connect(str(ctx.candidate_db))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def bounded_person_hours_sql(ctx) -> str:
    """The compiled (ephemeral) contribution-bounding query, to look at per-person rows."""
    from privacy_pipeline.dbt_runner import run_dbt

    run_dbt(ctx, ["compile", "--select", "int_location__dp_bounded_person_hours"])
    compiled = next(
        (ctx.run_dir / "dbt" / "target" / "compiled").rglob(
            "int_location__dp_bounded_person_hours.sql"
        )
    )
    return compiled.read_text()


def test_contributions_are_bounded_before_counting(dp_candidate):
    bounded = bounded_person_hours_sql(dp_candidate)
    per_person = candidate_rows(
        dp_candidate,
        f"""
        with bounded as ({bounded})
        select person_id,
               count(distinct case when event_code is null then hour_index end) as hours,
               max(postal_codes) as postal_codes_in_an_hour,
               count(distinct event_code) as events,
               count(event_code) as event_hours
        from bounded
        left join (
            select person_id as p, hour_index as h, count(*) as postal_codes
            from bounded where event_code is null group by all
        ) on p = person_id and h = hour_index
        group by person_id
        """,
    )
    assert per_person
    assert max(row[1] for row in per_person) == 1  # hours
    assert max(row[2] or 0 for row in per_person) == 1  # postal codes in an hour
    assert max(row[3] for row in per_person) == 1  # events
    assert max(row[4] for row in per_person) == 1  # hours at an event
    # the crowd of 3021 was seen at 10:00 and 11:00: each person now counts in one hour
    counts = candidate_rows(
        dp_candidate,
        """
        select sum(people) from intermediate.int_location__counts
        where area_level = 'postal_code' and area_id = '3021'
        """,
    )
    assert counts == [(K,)]


def test_only_the_run_dates_events_get_a_figure_code(dp_candidate):
    # A code's fields hold 20 bits: an events reference of years of past events must not
    # fill them (attack of session 12: a million past events stopped the night). The
    # scenario delivers EV-PAST, a year before the run date, beside the run date's EV-T and
    # the baseline's festival. Codes do not depend on DP.
    from tests.support.landing import EVENT_ID

    coded = candidate_rows(
        dp_candidate,
        "select key_id from intermediate.int_location__key_codes where key_level = 'event' "
        "order by key_id",
    )
    assert coded == sorted([(EVENT_ID,), ("EV-T",)])


def test_dp_marts_publish_only_noisy_figures_of_at_least_k(dp_candidate):
    assert candidate_rows(
        dp_candidate, f"select count(*) from location.presence_hourly where people < {K}"
    ) == [(0,)]
    ledger = dp_candidate.warehouse_dir / "private" / "location_noise.duckdb"
    assert ledger.exists()


# --- k on the true counts AND the noisy ones -------------------------------------------


def assert_k_holds_on_true_and_noisy_counts(rows, k: int) -> None:
    """The DP promise on a release's rows: every published figure describes at least k
    people in truth, and shows at least k."""
    for table, level, area, hour, true, noisy, status in rows:
        if status == "published":
            assert true >= k, f"{table} {level} {area} {hour}: {true} true people < k"
            assert noisy >= k, f"{table} {level} {area} {hour}: shows {noisy} < k"


PINNED_NOISE = {"1000": 5, "1001": -25}


def pinned_noise_people(tmp_path):
    """The people of one municipality's figures, whose noise is fixed in the ledger
    beforehand: 1000 has K - 2 people (noise +5: shows K + 3), 1001 K + 20 (noise -25:
    shows K - 5), 1002 3K; the municipality and the province hold them all."""
    from privacy_pipeline.location.noise import figure_ref, ledger_path, write_ledger

    people, start = {}, 0
    for code, size in {"1000": K - 2, "1001": K + 20, "1002": 3 * K}.items():
        people[area_figure("postal_code", code, 0)] = people_array(range(start, start + size))
        start += size
    people[area_figure("municipality", "M", 0)] = people_array(range(start))
    people[area_figure("province", "P", 0)] = people_array(range(start))
    config = {"dp": {"enabled": True}}
    chosen = dp_settings(config)
    write_ledger(
        ledger_path(chosen, tmp_path),
        "2026-06-20",
        chosen.ledger_key,
        {figure_ref(key): PINNED_NOISE.get(key.id, 0) for key in people},
    )
    return people, config


def test_dp_release_applies_k_to_the_true_counts_as_well_as_the_noisy_ones(tmp_path):
    people, config = pinned_noise_people(tmp_path)
    rows = decide_release(people, config, K, "2026-06-20", tmp_path)
    statuses = {area: (true, noisy, status) for _, _, area, _, true, noisy, status in rows}
    assert statuses["1000"] == (K - 2, K + 3, "suppressed_below_k")  # noisy >= k, true < k
    assert statuses["1001"] == (K + 20, K - 5, "suppressed_below_k")  # true >= k, noisy < k
    assert_k_holds_on_true_and_noisy_counts(rows, K)


def test_a_release_that_applies_k_to_the_noisy_counts_only_fails_the_check(tmp_path):
    """The check above is not vacuous: the same figures, audited as if the noisy count were
    the truth (the bug), publish 1000 with K - 2 true people and are caught."""
    from privacy_pipeline.location.disclosure import Figure, audit

    people, _ = pinned_noise_people(tmp_path)
    noisy = {key: len(who) + PINNED_NOISE.get(key.id, 0) for key, who in people.items()}
    figures = []
    for key, who in people.items():
        figure = Figure(key, who, released=noisy[key])
        object.__setattr__(figure, "values", (noisy[key], noisy[key]))  # k sees noise only
        figures.append(figure)
    status = audit(figures, K)
    buggy_rows = [
        (key.table, key.level, key.id, key.hour, len(who), noisy[key], status[key])
        for key, who in people.items()
    ]
    assert status[next(key for key in people if key.id == "1000")] == "published"
    with pytest.raises(AssertionError, match="true people < k"):
        assert_k_holds_on_true_and_noisy_counts(buggy_rows, K)


def test_the_location_gate_checks_the_true_count_behind_each_noisy_figure(dp_candidate, tmp_path):
    """With DP on, the gate removes each published figure's recorded noise: the true count
    must be at least k and at most the gate's recount from the landing events."""
    import shutil

    from privacy_pipeline.errors import GateFailed
    from privacy_pipeline.gates import run_suite
    from privacy_pipeline.run_context import RunContext

    shutil.copytree(dp_candidate.warehouse_dir, tmp_path / "wh", symlinks=True)
    ctx = RunContext.create(
        dp_candidate.landing_dir, tmp_path / "wh", dp_candidate.run_date, k=K,
        config=copy.deepcopy(dp_candidate.config),
    )  # fmt: skip
    assert run_suite(ctx, "location")["success"]
    # Noise of 1000 on every figure: each published figure now hides fewer than k people.
    con = duckdb.connect(str(ctx.warehouse_dir / "private" / "location_noise.duckdb"))
    con.execute("update location_noise set noise = 1000")
    con.close()
    with pytest.raises(GateFailed, match="counts_are_the_people_who_may_be_counted"):
        run_suite(ctx, "location")
