"""The election profile: which election, when, where. Loaded from a TOML file, validated."""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from election.resources import shipped_profile

DEFAULT_PROFILE = shipped_profile()


class ProfileError(Exception):
    """The profile file is missing or says something impossible; the message says what to fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contest(_Strict):
    key: str
    name: str
    short_name: str
    ballot_colour: str = ""
    # The province's own contest (a Pilgub): voters who moved in from another kabupaten/kota
    # of the province still vote in it, and the province's KPU recapitulates it.
    provincial: bool = False


class Voting(_Strict):
    tps_open: time
    tps_close: time
    dpk_start: time
    dpk_end: time
    dptb_from: time | None = None

    @model_validator(mode="after")
    def _hours_make_sense(self) -> Voting:
        if not self.tps_open < self.tps_close:
            raise ValueError("voting.tps_open must be before voting.tps_close")
        if not (self.tps_open <= self.dpk_start < self.dpk_end <= self.tps_close):
            raise ValueError("the DPK hour must lie inside the TPS hours")
        return self


class MasaTenang(_Strict):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> MasaTenang:
        if self.end < self.start:
            raise ValueError("masa_tenang.end is before masa_tenang.start")
        return self


class Results(_Strict):
    recap_start: date | None = None
    plenary: date | None = None  # the city KPU's recapitulation plenary
    announcement: date | None = None


class References(_Strict):
    dpt_check_url: str
    voter_report_url: str = ""
    kpu_name: str
    kpu_province_name: str = ""  # required when a contest is provincial
    bawaslu_name: str
    bawaslu_report: str
    # Who answers residents' questions in the bot's name ("Petugas Pemkot Malang").
    government_name: str = ""


_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = rf"^(?=.{{1,253}}$)({_LABEL}\.)*{_LABEL}$"


class Neutrality(_Strict):
    """The neutrality guard's data and the approval rules for this election.

    ``terms_file``: the partisan terms (candidates, parties, slogans, pair-number calls), a TOML
    file beside the profile; ``link_allowlist``: the only domains (and their subdomains) a
    custom broadcast may link to; ``allowed_handles``: social-media accounts it may name;
    ``approver_min_age_hours``: how long an official must have been an official before they may
    approve someone else's custom broadcast (a fresh second account is not a second person).
    """

    terms_file: Path | None = None
    link_allowlist: list[str] = Field(
        default_factory=lambda: ["go.id", "kpu.go.id", "bawaslu.go.id", "malangkota.go.id"]
    )
    allowed_handles: list[str] = Field(default_factory=list)
    approver_min_age_hours: int = Field(default=24, ge=0, le=24 * 365)

    @field_validator("link_allowlist")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        out = []
        for domain in value:
            d = domain.strip().casefold().removeprefix("www.")
            if not re.match(_DOMAIN, d) or "." not in d:
                raise ValueError(f"{domain!r} is not a domain name (e.g. 'kpu.go.id')")
            out.append(d)
        return out

    @field_validator("allowed_handles")
    @classmethod
    def _handles(cls, value: list[str]) -> list[str]:
        for handle in value:
            if not re.match(r"^@?[A-Za-z0-9_.]{1,32}$", handle):
                raise ValueError(f"{handle!r} is not a social-media handle (e.g. '@kpu_ri')")
        return value

    @field_validator("terms_file")
    @classmethod
    def _terms_file_exists(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        # relative to the profile's folder, else to data/elections (a copied profile for a PSU)
        base = (info.context or {}).get("base") or DEFAULT_PROFILE.parent
        candidates = [value] if value.is_absolute() else [Path(base) / value]
        if not value.is_absolute():
            candidates.append(DEFAULT_PROFILE.parent / value)
        path = next((c for c in candidates if c.is_file()), candidates[0])
        if not path.is_file():
            raise ValueError(f"terms file {path} not found")
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"terms file {path} is not valid TOML: {exc}") from exc
        return path.resolve()


class Privacy(_Strict):
    """Who answers for residents' data (UU 27/2022), shown by /privasi and in the README."""

    controller: str = ""  # the data controller, e.g. the city's Diskominfo
    contact: str = ""  # where a person asks about or objects to their data


# "H-3 10.00", "H 06.00", "H+1 08.00": the scheduler's H-n grammar (scheduler/timeline.py).
_H_TIME = re.compile(r"^H([+-]\d{1,3})? \d{1,2}[.:]\d{2}$")


class Preflight(_Strict):
    """When the scheduled pre-flight asks Telegram about every group (H-n, election's zone)."""

    at: list[str] = Field(default_factory=lambda: ["H-3 10.00", "H-1 10.00"])

    @field_validator("at")
    @classmethod
    def _h_times(cls, value: list[str]) -> list[str]:
        for item in value:
            if not _H_TIME.match(item.strip()):
                raise ValueError(f"{item!r}: write a pre-flight time like 'H-3 10.00'")
        return [item.strip() for item in value]


ESCALATION_TARGETS = ("grup", "admin", "lurah", "camat")


class ChainStep(_Strict):
    """One step of an acknowledgement escalation chain (domain/escalation.py)."""

    after_minutes: int = Field(gt=0, le=7 * 24 * 60)
    # grup: the reminder in the group; admin: its registered admin in private chat; lurah,
    # camat: the list of silent groups to the officials of the kelurahan, then the kecamatan.
    to: str

    @field_validator("to")
    @classmethod
    def _known_target(cls, value: str) -> str:
        if value not in ESCALATION_TARGETS:
            raise ValueError(f"{value!r}: use one of " + ", ".join(ESCALATION_TARGETS))
        return value


class Acknowledgement(_Strict):
    """Which agenda steps need acknowledgement, and the chain that follows a group's silence."""

    steps: list[str] = Field(default_factory=list)  # agenda step keys, e.g. "h-tps-buka"
    chain: list[ChainStep] = Field(
        default_factory=lambda: [
            ChainStep(after_minutes=60, to="grup"),
            ChainStep(after_minutes=120, to="admin"),
            ChainStep(after_minutes=180, to="lurah"),
            ChainStep(after_minutes=240, to="camat"),
        ]
    )

    @model_validator(mode="after")
    def _ordered(self) -> Acknowledgement:
        minutes = [s.after_minutes for s in self.chain]
        if minutes != sorted(set(minutes)):
            raise ValueError("chain steps must come later one after another (after_minutes)")
        return self


class ElectionProfile(_Strict):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    short_name: str
    region_code: str = Field(pattern=r"^\d{2}(\.\d{2}){0,3}(\.\d{4})?$")
    region_name: str
    province_name: str = ""  # required when a contest is provincial
    timezone: str
    timezone_label: str
    election_day: date
    holiday: bool = False
    contests: list[Contest] = Field(min_length=1)
    voting: Voting
    masa_tenang: MasaTenang
    results: Results = Results()
    references: References
    neutrality: Neutrality = Neutrality()
    privacy: Privacy = Privacy()
    preflight: Preflight = Preflight()
    acknowledgement: Acknowledgement = Acknowledgement()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use e.g. 'Asia/Jakarta')") from exc
        return value

    @model_validator(mode="after")
    def _masa_tenang_before_day(self) -> ElectionProfile:
        if self.masa_tenang.end >= self.election_day:
            raise ValueError("masa_tenang must end before election_day")
        return self

    @model_validator(mode="after")
    def _province_named(self) -> ElectionProfile:
        provincial = [c.key for c in self.contests if c.provincial]
        if len(provincial) > 1:
            raise ValueError(f"only one contest can be provincial, not {provincial}")
        if provincial and not (self.province_name and self.references.kpu_province_name):
            raise ValueError(
                f"contest {provincial[0]!r} is provincial: set province_name and "
                "references.kpu_province_name"
            )
        return self

    @property
    def provincial_contest(self) -> Contest | None:
        return next((c for c in self.contests if c.provincial), None)

    @property
    def terms_path(self) -> Path | None:
        """The partisan terms file of this election (absolute), or None for the default."""
        return self.neutrality.terms_file

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, day: date, at: time) -> datetime:
        """A wall-clock time in the election's zone, as an aware datetime."""
        return datetime.combine(day, at, tzinfo=self.tz)

    def day_offset(self, offset: int) -> date:
        """H+offset: offset -1 is H-1."""
        return self.election_day + timedelta(days=offset)

    @property
    def polls_open_at(self) -> datetime:
        return self.local(self.election_day, self.voting.tps_open)

    @property
    def polls_close_at(self) -> datetime:
        return self.local(self.election_day, self.voting.tps_close)

    def in_masa_tenang(self, when: datetime) -> bool:
        day = when.astimezone(self.tz).date()
        return self.masa_tenang.start <= day <= self.masa_tenang.end


def load_profile(path: Path | str | None = None) -> ElectionProfile:
    """Read and validate a profile; every problem becomes one ProfileError naming the file."""
    file = Path(path) if path else DEFAULT_PROFILE
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ProfileError(f"election profile {file} not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"election profile {file} is not valid TOML: {exc}") from exc
    try:
        return ElectionProfile.model_validate(raw, context={"base": file.parent})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ProfileError(f"election profile {file}: {problems}") from exc
