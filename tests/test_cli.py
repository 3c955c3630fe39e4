"""CLI behaviour that needs no pipeline run: argument checks and documented exit codes."""

from __future__ import annotations

from privacy_pipeline.cli import main


def test_k_below_the_floor_is_refused_with_exit_2(tmp_path, capsys):
    (tmp_path / "landing").mkdir()
    code = main(
        [
            "run",
            "--landing",
            str(tmp_path / "landing"),
            "--warehouse",
            str(tmp_path / "wh"),
            "--date",
            "2026-06-20",
            "--k",
            "14",
        ]
    )
    assert code == 2
    assert "below the floor of 15" in capsys.readouterr().err


def test_missing_landing_folder_is_unusable_input(tmp_path, capsys):
    code = main(
        [
            "run",
            "--landing",
            str(tmp_path / "nowhere"),
            "--warehouse",
            str(tmp_path / "wh"),
            "--date",
            "2026-06-20",
        ]
    )
    assert code == 2
    assert "nowhere" in capsys.readouterr().err


def test_export_of_an_unpublished_warehouse_is_refused(tmp_path, capsys):
    code = main(
        [
            "export",
            "--warehouse",
            str(tmp_path),
            "--table",
            "marketing.segment_members",
            "--format",
            "csv",
            "--output",
            str(tmp_path / "out.csv"),
        ]
    )
    assert code == 2
    assert "no published warehouse" in capsys.readouterr().err
