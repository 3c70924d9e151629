"""Hypothesis fuzzing of the importers with malformed bytes: a real prefix of each export, corrupted
at random (flipped bytes, NULs, invalid UTF-8, cut lines, extra fields). No crash; every row is
imported, rejected with a field and a reason, or counted; nothing half-written (the log verifies
and a second import adds nothing)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.bootstrap import bootstrap
from api.settings import Settings
from consumers.importers import FORMATS
from consumers.importers.base import RowError, run_import
from tests.fakes import FakeClock
from tests.support.data import data_file

FILES = {fmt: data_file(fmt) for fmt in FORMATS}
PREFIX_LINES = 60


def prefix(path: Path) -> bytes:
    with path.open("rb") as handle:
        return b"".join(itertools.islice(handle, PREFIX_LINES))


corruption = st.lists(st.tuples(
    st.sampled_from(["flip", "nul", "bad-utf8", "cut", "extra-field", "quote", "crlf"]),
    st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=12)


def corrupt(data: bytes, edits: list[tuple[str, int, int]]) -> bytes:
    out = bytearray(data)
    header_end = out.index(b"\n") + 1  # keep the header: a broken header is refused whole (tested below)
    for kind, where, value in edits:
        at = header_end + where % max(1, len(out) - header_end)
        if kind == "flip":
            out[at] = value
        elif kind == "nul":
            out[at:at] = b"\x00"
        elif kind == "bad-utf8":
            out[at:at] = b"\xff\xfe"
        elif kind == "cut":
            end = out.find(b"\n", at)
            del out[at:end if end > 0 else len(out)]
        elif kind == "extra-field":
            out[at:at] = b",extra"
        elif kind == "quote":
            out[at:at] = b'"'
        else:
            out[at:at] = b"\r\n"
    return bytes(out)


@pytest.mark.parametrize("fmt", [pytest.param(fmt, marks=pytest.mark.skipif(FILES[fmt] is None, reason="no data"))
                                 for fmt in FORMATS])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=corruption)
def test_malformed_bytes_never_crash_and_every_row_is_accounted_for(tmp_path_factory, fmt, edits):
    folder = tmp_path_factory.mktemp(fmt)
    path = folder / "export.csv"
    path.write_bytes(corrupt(prefix(FILES[fmt]), edits))
    services = bootstrap(Settings(store_url=f"sqlite:///{folder / 'e.db'}"), clock=FakeClock())
    try:
        report = run_import(services.app, FORMATS[fmt](path), actor="fuzz")
        assert report.imported + report.unchanged + report.already_imported + len(report.rejected) == report.rows
        assert all(field and reason for _, field, reason, _ in report.rejected)
        assert services.verify_log()["intact"]
        events = services.app.event_count()
        again = run_import(services.app, FORMATS[fmt](path), actor="fuzz")
        assert again.imported == 0 and services.app.event_count() == events
    finally:
        services.close()


def test_a_header_that_is_not_the_format_is_refused_whole(tmp_path):
    for fmt, source in FILES.items():
        if source is None:
            continue
        path = tmp_path / f"{fmt}.csv"
        path.write_bytes(b"\xff\x00garbage\n" + prefix(source).split(b"\n", 1)[1])
        with pytest.raises(RowError):
            list(FORMATS[fmt](path))
