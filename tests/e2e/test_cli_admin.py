"""``servicetrail keys`` and ``servicetrail customers erase`` as an administrator runs them."""

from __future__ import annotations

import json
import re

from tests.e2e.test_cli import run_cli


def test_keys_are_created_listed_and_revoked(tmp_path):
    url = f"sqlite:///{tmp_path / 'events.db'}"
    created = run_cli("keys", "create", "--role", "auditor", "--principal", "kim", "--label", "audit 2026",
                      "--store-url", url)
    assert created.returncode == 0, created.stderr
    key_id = re.search(r"key ([0-9a-f]{12}) \(auditor:kim\)", created.stdout).group(1)
    assert re.search(rf"st_{key_id}_\S+", created.stdout), "the key is printed once, at creation"
    listed = [json.loads(line) for line in run_cli("keys", "list", "--store-url", url).stdout.splitlines()]
    assert [(k["key_id"], k["role"], k["revoked_at"]) for k in listed] == [(key_id, "auditor", None)]
    assert "st_" not in json.dumps(listed), "listing never shows a secret"
    assert run_cli("keys", "revoke", key_id, "--store-url", url).returncode == 0
    again = run_cli("keys", "revoke", key_id, "--store-url", url)
    assert again.returncode == 1 and "already revoked" in again.stderr
    assert run_cli("keys", "revoke", "000000000000", "--store-url", url).returncode == 1
    listed = [json.loads(line) for line in run_cli("keys", "list", "--store-url", url).stdout.splitlines()]
    assert listed[0]["revoked_at"] is not None


def test_customers_erase(tmp_path):
    url = f"sqlite:///{tmp_path / 'events.db'}"
    result = run_cli("customers", "erase", "cust-1", "--store-url", url)
    assert result.returncode == 0 and "erased the personal data of cust-1 (none was stored)" in result.stdout


def test_import_summarises_writes_rejects_beside_the_input_and_refuses_bad_arguments(tmp_path):
    url = f"sqlite:///{tmp_path / 'events.db'}"
    export = tmp_path / "cases.csv"
    export.write_text(
        "unique_key,account,opendate,closedate,complaint_type,descriptor,zip,borough,city,council_dist,"
        "community_board\n"
        "K1,NYCC01,2020-01-02,2020-01-05,Housing,Heat,10001,Manhattan,,NYCC03,\n"
        "K2,NYCC01,2020-01-03,,,,,,,,\n")
    first = run_cli("import", str(export), "--format", "nyc-council", "--store-url", url)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout[first.stdout.index("{"):])
    assert (summary["rows"], summary["imported"], summary["rejected"]) == (2, 1, 1)
    assert summary["top_reject_reasons"] == {"complaint_type: is empty: a case needs a category": 1}
    rejects = (tmp_path / "cases.csv.rejects.csv").read_text().splitlines()
    assert rejects[0].startswith("line,field,reason,unique_key") and rejects[1].startswith("3,complaint_type,")
    again = run_cli("import", str(export), "--format", "nyc-council", "--store-url", url)
    assert json.loads(again.stdout[again.stdout.index("{"):])["events"] == 0
    wrong = run_cli("import", str(export), "--format", "excel", "--store-url", url)
    assert wrong.returncode == 2 and "--format must be one of nyc-council, bpi2013, helpdesk-log" in wrong.stderr
    header = run_cli("import", str(export), "--format", "bpi2013", "--store-url", url)
    assert header.returncode == 2 and "missing column(s)" in header.stderr
    missing = run_cli("import", str(tmp_path / "nope.csv"), "--format", "bpi2013", "--store-url", url)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    forecast = run_cli("forecast", "--store-url", url, "--as-of", "2020-01-10T00:00:00Z", "--horizon", "3")
    assert forecast.returncode == 0, forecast.stderr
    report = json.loads(forecast.stdout)
    assert report["slices"][0]["slice"] == {"category": "Housing"} and len(report["slices"][0]["periods"]) == 3
    staffing = run_cli("staffing", "--calls", "100", "--interval", "30m", "--aht", "180", "--patience", "120")
    assert json.loads(staffing.stdout)["model"] == "erlang-a"


def test_demo_replays_a_real_data_set_through_the_importer(tmp_path):
    from tests.support.data import FILES, data_file

    data = data_file("nyc-council").parents[1]  # the folder that holds the data sets
    url = f"sqlite:///{tmp_path / 'events.db'}"
    result = run_cli("demo", "--from-data", "nyc-council", "--rows", "300", "--data-dir", str(data), "--no-serve",
                     "--store-url", url)
    assert result.returncode == 0, result.stderr
    summary = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("{")))
    with (data / FILES["nyc-council"]).open() as handle:
        last_day = list(handle)[-1].split(",")[2]  # opendate of the last row (rows are sorted by it)
    assert summary["rows"] == 300 and summary["imported"] > 250
    assert f"the data end at {last_day}; the dashboard as of then: " in result.stdout
    assert f"/?as_of={last_day}T23:59:59Z" in result.stdout
    wrong = run_cli("demo", "--from-data", "excel", "--no-serve", "--store-url", f"sqlite:///{tmp_path / 'x.db'}")
    assert wrong.returncode == 2 and "--from-data must be one of" in wrong.stderr


def test_read_only_commands_refuse_a_store_that_is_not_there_and_create_nothing(tmp_path):
    missing = tmp_path / "typo" / "evnets.db"
    for command in (("keys", "list"), ("replay",), ("audit", "verify"), ("audit", "export", "--from",
                                                                         "2026-01-01T00:00:00Z")):
        result = run_cli(*command, "--store-url", f"sqlite:///{missing}")
        assert result.returncode == 2, command
        assert result.stderr.strip().count("\n") == 0 and f"no store at {missing}" in result.stderr, result.stderr
    assert not missing.parent.exists(), "nothing was created in the mistyped place"


def test_instants_outside_the_supported_range_are_one_line_errors(tmp_path):
    url = f"sqlite:///{tmp_path / 'events.db'}"
    assert run_cli("keys", "create", "--role", "auditor", "--principal", "kim", "--store-url", url).returncode == 0
    for command in (("replay", "--as-of", "0001-01-01T00:00:00Z"), ("forecast", "--as-of", "9999-12-31T00:00:00Z"),
                    ("replay", "--known-at", "9999-12-31T23:59:59Z")):
        result = run_cli(*command, "--store-url", url)
        assert result.returncode == 2, (command, result.stderr)
        assert "Traceback" not in result.stderr and "must lie between 1970 and 9000" in result.stderr


def test_a_non_finite_staffing_figure_is_a_one_line_error():
    result = run_cli("staffing", "--calls", "inf", "--aht", "300")
    assert result.returncode == 2 and "--calls must be a finite number" in result.stderr
