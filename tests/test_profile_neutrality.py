"""The election profile's [neutrality] section: terms file, link allowlist, approver age."""

from __future__ import annotations

from pathlib import Path

import pytest

from election.profile import DEFAULT_PROFILE, ProfileError, load_profile
from messages.neutrality import Category, approval_findings, guard_for

BASE = DEFAULT_PROFILE.read_text(encoding="utf-8")
SECTION = BASE[BASE.index("[neutrality]") :]


def _with(tmp_path: Path, section: str) -> Path:
    file = tmp_path / "profile.toml"
    file.write_text(BASE.replace(SECTION, section), encoding="utf-8")
    return file


def test_the_shipped_profile_names_its_terms_and_links() -> None:
    profile = load_profile()
    assert profile.terms_path is not None and profile.terms_path.name.endswith(".terms.toml")
    assert "go.id" in profile.neutrality.link_allowlist
    assert profile.neutrality.approver_min_age_hours == 24


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ('[neutrality]\nterms_file = "nope.toml"\n', "terms file .* not found"),
        ('[neutrality]\nlink_allowlist = ["http://x.id/"]\n', "not a domain name"),
        ('[neutrality]\nlink_allowlist = ["localhost"]\n', "not a domain name"),
        ('[neutrality]\nallowed_handles = ["@a b"]\n', "not a social-media handle"),
        ("[neutrality]\napprover_min_age_hours = -1\n", "approver_min_age_hours"),
        ("[neutrality]\nlink_alowlist = []\n", "link_alowlist"),
    ],
)
def test_bad_neutrality_settings_stop_the_start(tmp_path: Path, section: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        load_profile(_with(tmp_path, section))


def test_a_profile_with_its_own_terms_and_links(tmp_path: Path) -> None:
    (tmp_path / "psu.terms.toml").write_text(
        '[[term]]\nterm = "Calon X"\ncategory = "candidate"\nkind = "name"\n'
        'patterns = ["Calon X"]\n',
        encoding="utf-8",
    )
    section = (
        '[neutrality]\nterms_file = "psu.terms.toml"\nlink_allowlist = ["kpu.go.id"]\n'
        'allowed_handles = ["@kpu_ri"]\napprover_min_age_hours = 48\n'
    )
    profile = load_profile(_with(tmp_path, section))
    guard = guard_for(profile)
    assert [f.term for f in guard.check("Dukung calon x")] == ["Calon X"]
    assert guard.check("Dukung Khofifah") == []  # another election's terms
    assert guard.check("Info: kpu.go.id, ikuti @kpu_ri") == []
    assert [f.category for f in guard.check("Info: malangkota.go.id")] == [Category.LINK]


def test_the_approval_screen_highlights_what_a_person_must_judge() -> None:
    found = approval_findings(
        "Ayo ke TPS 3 bersama Pak Budi Santoso 🐂, info https://kpu.go.id #AyoMemilih"
    )
    assert "Pak Budi Santoso" in found.names
    assert "TPS 3" in found.numbers
    assert "🐂" in found.symbols
    assert "kpu.go.id" in found.links and "#AyoMemilih" in found.links
    assert found.findings == ()  # nothing a rule refuses: the approver judges the rest
    banteng = approval_findings("Warga kampung banteng kerja bakti")
    assert any("banteng" in s for s in banteng.symbols) and banteng.findings == ()
