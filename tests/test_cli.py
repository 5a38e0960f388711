"""The `kpi` entry point: help, and one-line errors (never a traceback) for bad parameters."""

from __future__ import annotations

import pytest

from kpilib.cli import main

SUBCOMMANDS = [
    "catalog",
    "score",
    "calendar",
    "sample-data",
    "ingest",
    "figures",
    "validate",
    "report",
    "run",
    "forms",
    "sign",
]


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_each_subcommand_has_help(name, capsys):
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    assert f"kpi {name}" in capsys.readouterr().out


_SIGN = ["--unit", "1032", "--fy", "2567", "--quarter", "1", "--role", "ผู้อำนวยการเขต"]


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["run", "--fy", "2024"], "did you mean 2567"),
        (["run", "--quarter", "5"], "quarter"),
        (["run", "--unit", "9999"], "9999"),
        (["run", "--data", "../x"], ".."),
        (["report", "--unit", "../x", "--fy", "2567", "--quarter", "1"], "invalid unit code"),
        (["report", "--unit", "1032", "--fy", "2567", "--quarter", "all"], "use 1, 2, 3 or 4"),
        (["score", "--kpi", "no-such-kpi", "--value", "1"], "no-such-kpi"),
        (["calendar", "28/10/2019"], "did you mean 2562"),
        (["validate", "--data", "/nonexistent/folder"], "not found"),
        (["sample-data", "--fy", "2024"], "2567"),
        (["figures", "--fy", "2019", "--data", "/nonexistent/folder"], ""),
        (["forms", "--fy", "2024", "--quarter", "1"], "did you mean 2567"),
        (["forms", "--fy", "2567", "--quarter", "0"], "quarter"),
        (["forms", "--fy", "2567", "--quarter", "1", "--unit", "../x"], "invalid unit code"),
        (["forms", "--fy", "2567", "--quarter", "1", "--unit", "9999"], "9999"),
        (["forms", "--fy", "2567", "--quarter", "1", "--out", "a/../b"], ".."),
        (["forms", "--fy", "2567", "--quarter", "1", "--data", "/nonexistent/x"], "not a folder"),
        (["sign", *_SIGN, "--name", "  "], "--name must not be empty"),
        (["sign", *_SIGN, "--name", "นาย ก\nนาย ข"], "one line"),
        (["sign", *_SIGN, "--name", "ก" * 121], "at most 120"),
        (["sign", *_SIGN, "--name", "นาย ก", "--role", "\x1b[31m"], "control"),
        (
            [
                "sign",
                "--unit",
                "/etc",
                "--fy",
                "2567",
                "--quarter",
                "1",
                "--name",
                "x",
                "--role",
                "y",
            ],
            "invalid unit code",
        ),
        (["sign", *_SIGN, "--name", "x", "--role", "y", "--data", "../data"], ".."),
        # a path option naming a file is a one-line error for every command (not a traceback)
        (["run", "--data", "{file}"], "is a file, not a folder"),
        (["run", "--out", "{file}"], "is a file, not a folder"),
        (
            ["report", "--unit", "1032", "--fy", "2567", "--quarter", "1", "--out", "{file}"],
            "is a file",
        ),
        (
            ["report", "--unit", "1032", "--fy", "2567", "--quarter", "1", "--data", "{file}"],
            "is a file",
        ),
        (["ingest", "--data", "{file}"], "is a file, not a folder"),
        (["ingest", "--out", "{file}/processed"], "which is a file, not a folder"),
        (["validate", "--data", "{file}"], "is a file, not a folder"),
        (["validate", "--out", "{file}"], "is a file, not a folder"),
        (["sample-data", "--out", "{file}"], "is a file, not a folder"),
        (["figures", "--data", "{file}"], "is a file, not a folder"),
        # a fiscal year the business calendar does not cover is refused before any work
        (["run", "--fy", "2500"], "outside the fiscal years the business calendar covers"),
        (["validate", "--fy", "2500"], "outside the fiscal years the business calendar covers"),
        (["figures", "--fy", "2500"], "outside the fiscal years the business calendar covers"),
        # figures for a unit that is not a district: refused, not zero rows
        (["figures", "--unit", "../../etc"], "unknown unit code '../../etc'"),
        (["figures", "--unit", "9999"], "unknown unit code '9999'"),
        (["figures", "--unit", "<b>x"], "unknown unit code '<b>x'"),
        (["figures", "--unit", "GOVSEC"], "is not a district"),
    ],
)
def test_bad_parameters_give_one_line_and_exit_2(argv, fragment, capsys, tmp_path):
    a_file = tmp_path / "a_file.csv"
    a_file.write_text("x\n", encoding="utf-8")
    argv = [a.format(file=a_file) for a in argv]
    if argv[0] in ("run", "figures", "ingest", "validate") and "--data" not in argv:
        argv = [*argv, "--data", str(tmp_path)]  # an existing folder: the check under test fails
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"kpi {argv[0]}: error: ")
    assert fragment in lines[0]
    assert "Traceback" not in err


def test_calendar_command(capsys):
    assert main(["calendar", "6 ธ.ค. 2562", "--add-business-days", "1"]) == 0
    out = capsys.readouterr().out
    assert "ปีงบประมาณ (FY)         2563" in out and "2019-12-09" in out
