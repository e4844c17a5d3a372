"""A kelurahan scope (a lurah's staff) in the domain's scoped queries: reports, coverage, the
funnel, the list import, /grup's counts — Oro-oro Dowo only, not Bareng of the same kecamatan."""

from __future__ import annotations

import pytest

from db.engine import SessionFactory
from domain.coverage import ListRejected, import_list, neighbourhood_coverage, parse_list
from domain.funnel import funnel
from domain.regions import read_regions
from domain.registered import group_counts
from domain.report_groups import group_lines
from domain.reports import broadcast_report, recent_broadcasts
from scheduler.audience import Audience, addressed_within, in_region, is_kelurahan_code
from scheduler.clock import FixedClock
from tests.test_reports import ADMIN, BARENG, OOD, scenario


def test_a_kelurahan_code_is_a_region_inside_its_kecamatan() -> None:
    assert is_kelurahan_code(OOD) and not is_kelurahan_code("35.73.02")
    assert in_region(OOD, OOD) and in_region(OOD, "35.73.02") and in_region(OOD, None)
    assert not in_region(BARENG, OOD) and not in_region(OOD, "35.73.0")
    assert Audience.of_scope(OOD) == Audience(kelurahan_code=OOD)
    assert Audience.of_scope("35.73.02") == Audience(kecamatan_code="35.73.02")
    nudge = Audience.of_scope(OOD, unacked_of=7)
    assert Audience.parse(nudge.spec()) == nudge


def test_a_stored_audience_is_addressed_within_a_scope_or_not_at_all() -> None:
    """addressed_within: what /jadwal, /audit, /eskalasi and repeats let a scoped official see."""
    assert addressed_within(Audience(kelurahan_code=OOD).spec(), "35.73.02")
    assert addressed_within(Audience(kelurahan_code=OOD).spec(), OOD)
    assert addressed_within(Audience(kecamatan_code="35.73.02").spec(), "35.73.02")
    assert not addressed_within(Audience(kecamatan_code="35.73.02").spec(), OOD)  # wider
    assert not addressed_within(Audience(kelurahan_code=BARENG).spec(), OOD)
    assert not addressed_within(Audience().spec(), "35.73.02")  # the whole city
    assert not addressed_within("kecamatan:bukan-kode:", "35.73.02")  # no longer parses


async def test_reports_and_coverage_follow_a_kelurahan_scope(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    b = await scenario(sessions, clock)
    listed = parse_list("kelurahan;rw;rt\nOro-oro Dowo;3;1\nBareng;1;\n", read_regions())
    async with sessions.begin() as session:
        await import_list(session, listed, ADMIN.user_id, clock.now())
    async with sessions() as session:
        report = await broadcast_report(session, b, OOD)
        lines = await group_lines(session, b, OOD)
        recent = await recent_broadcasts(session, OOD)
        coverage = await neighbourhood_coverage(session, OOD)
        shape = await funnel(session, OOD)
        counts = await group_counts(session, OOD)
    assert report.scope_name == "Kelurahan Oro-oro Dowo"
    assert report.total.targeted == 3
    assert {ln.kelurahan for ln in lines} == {"Oro-oro Dowo"}
    assert [r.id for r in recent] == [b]
    assert [k.code for k in coverage.kelurahan] == [OOD]
    assert [r.code for r in shape.rows] == [OOD]
    assert [c.where.code for c in counts] == [OOD]
    with pytest.raises(ListRejected):
        parse_list("kelurahan;rw;rt\nBareng;1;\n", read_regions(), OOD)
