"""The schema. Every time is UTC; chat and user ids are 64-bit."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.types import UTCDateTime

# Stable constraint names, so migrations can alter them on SQLite (batch mode) and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _enum(cls: type[enum.Enum]) -> Enum:
    # Stored as plain strings (no native ENUM type) so adding a value needs no ALTER TYPE.
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class GroupLevel(enum.StrEnum):
    RW = "rw"
    RT = "rt"


class OfficialRole(enum.StrEnum):
    ADMIN = "admin"  # approves and sends
    OPERATOR = "operator"  # drafts


class RequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class RequestAction(enum.StrEnum):
    GRANT = "grant"  # make someone an approver (admin), or change an approver's role/scope
    REMOVE = "remove"  # remove an approver


class BroadcastStatus(enum.StrEnum):
    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting_approval"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


class BroadcastSource(enum.StrEnum):
    TIMELINE = "timeline"
    CUSTOM = "custom"
    LIBRARY = "library"
    FOLLOW_UP = "follow_up"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed: a send may be in flight
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class Kecamatan(Base):
    __tablename__ = "kecamatan"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)  # Kemendagri, e.g. 35.73.01
    name: Mapped[str] = mapped_column(String(80))

    kelurahan: Mapped[list[Kelurahan]] = relationship(back_populates="kecamatan")


class Kelurahan(Base):
    __tablename__ = "kelurahan"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)  # e.g. 35.73.02.1008
    name: Mapped[str] = mapped_column(String(80))
    kecamatan_code: Mapped[str] = mapped_column(ForeignKey("kecamatan.code"), index=True)
    # Other spellings people type ("Oro Oro Dowo", "Tasikmadu"), separated by ";".
    alt_names: Mapped[str] = mapped_column(String(400), default="")

    kecamatan: Mapped[Kecamatan] = relationship(back_populates="kelurahan")


class Group(Base):
    """A group chat the bot is (or was) in, and its place in the city once registered."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    title: Mapped[str] = mapped_column(String(255), default="")
    chat_type: Mapped[str] = mapped_column(String(20), default="group")
    level: Mapped[GroupLevel | None] = mapped_column(_enum(GroupLevel), nullable=True)
    kelurahan_code: Mapped[str | None] = mapped_column(
        ForeignKey("kelurahan.code"), nullable=True, index=True
    )
    rw: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rt: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The bot is in the chat and may send there.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Registered by an admin with /daftar and not unsubscribed.
    subscribed: Mapped[bool] = mapped_column(Boolean, default=False)
    subscribed_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    subscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    migrated_from_chat_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    inactive_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    kelurahan: Mapped[Kelurahan | None] = relationship()

    __table_args__ = (Index("ix_groups_audience", "subscribed", "active", "kelurahan_code"),)


class Official(Base):
    __tablename__ = "officials"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[OfficialRole] = mapped_column(_enum(OfficialRole))
    # An operator or admin limited to one kecamatan; None means the whole city.
    kecamatan_code: Mapped[str | None] = mapped_column(ForeignKey("kecamatan.code"), nullable=True)
    # A lurah's staff: limited to one kelurahan of that kecamatan (migration 0011).
    kelurahan_code: Mapped[str | None] = mapped_column(ForeignKey("kelurahan.code"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    added_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # From ADMIN_IDS: re-asserted at every start, never changed through Telegram.
    root: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # Since when this official may approve (admin), and who proposed that (a pending request's
    # author): a new approver cannot approve older broadcasts, nor any by their proposer.
    approver_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approver_proposed_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class OfficialRequest(Base):
    """A change to who may approve, waiting for a second admin (like a custom broadcast)."""

    __tablename__ = "official_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[RequestAction] = mapped_column(_enum(RequestAction))
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    role: Mapped[OfficialRole | None] = mapped_column(_enum(OfficialRole), nullable=True)
    kecamatan_code: Mapped[str | None] = mapped_column(ForeignKey("kecamatan.code"), nullable=True)
    kelurahan_code: Mapped[str | None] = mapped_column(ForeignKey("kelurahan.code"), nullable=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    requested_by: Mapped[int] = mapped_column(BigInteger)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[RequestStatus] = mapped_column(_enum(RequestStatus), index=True)
    decided_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Broadcast(Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[BroadcastSource] = mapped_column(_enum(BroadcastSource))
    # For timeline entries: "<profile key>:<entry key>", so re-reading the file never duplicates.
    timeline_key: Mapped[str | None] = mapped_column(String(120), unique=True, nullable=True)
    message_key: Mapped[str | None] = mapped_column(String(80), nullable=True)
    # The exact HTML sent; for library messages rendered when the broadcast starts.
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    # "all", "rw", "rt", "kecamatan:<code>", "kelurahan:<code>", optionally "+rw"/"+rt" suffix.
    audience: Mapped[str] = mapped_column(String(80), default="all")
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)  # higher goes first
    status: Mapped[BroadcastStatus] = mapped_column(_enum(BroadcastStatus), index=True)
    status_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"), nullable=True)
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # None: the system
    approved_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The agenda (programme) this broadcast belongs to; None: an official's one-off broadcast.
    agenda: Mapped[str | None] = mapped_column(String(60), nullable=True, index=True)
    # The agenda's topic; groups may opt out of optional topics (scheduler.topics).
    topic: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # An official asked for acknowledgement with the profile's escalation chain (/eskalasi);
    # agenda steps listed in the profile's [acknowledgement] steps need it without this flag.
    ack_chain: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # A check-in (a question with answer buttons): scheduler.checkin.ResolvedCheckIn as JSON.
    # (none_as_null: an ordinary broadcast holds SQL NULL, not JSON null, so queries can tell.)
    checkin: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)


class Agenda(Base):
    """A programme of broadcasts (scheduler.agenda): its file as loaded, and whether it runs."""

    __tablename__ = "agendas"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    title: Mapped[str] = mapped_column(String(120), default="")
    topic: Mapped[str] = mapped_column(String(20))
    # The agenda file's text (TOML) as validated; the database is the source of truth.
    source: Mapped[str] = mapped_column(Text, default="")
    # "file" (bundled under data/agendas, refreshed at start) or "official" (loaded by one).
    origin: Mapped[str] = mapped_column(String(20), default="file")
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    # An official loaded custom texts: held (paused) until a second city-wide admin approves.
    awaiting_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GroupTopicOptOut(Base):
    """A group that chose (with /topik) not to receive one optional topic."""

    __tablename__ = "group_topic_optouts"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(20), primary_key=True)
    chosen_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Delivery(Base):
    """One broadcast to one group: the ledger that makes sends exactly-once-ish across crashes."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    # The chat id the message went to (a group may migrate to a supergroup afterwards).
    chat_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Who holds the claim of a `sending` row, and until when (wall-clock UTC, renewed while the
    # holder lives): a row whose claim has run out is a crash leftover anyone may claim again.
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("broadcast_id", "group_id"),
        Index("ix_deliveries_broadcast_status", "broadcast_id", "status"),
        Index("ix_deliveries_chat_message", "chat_id", "telegram_message_id"),
    )


class InstanceLease(Base):
    """Which running copy of the bot is the active one (polls, schedules, sends).

    Times are wall-clock UTC (never the replaceable election clock): a lease is about whether a
    process is alive. The holder renews it; another copy takes it only once it has expired.
    """

    __tablename__ = "instance_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Acknowledgement(Base):
    __tablename__ = "acknowledgements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    # Who pressed, and whether as the group's admin; never the name (migration 0006).
    user_id: Mapped[int] = mapped_column(BigInteger)
    # The group's admin (the RT/RW leader) rather than a member.
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("delivery_id", "user_id"),)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # None: the system
    actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(120), default="", index=True)
    detail: Mapped[str] = mapped_column(Text, default="")


class Tps(Base):
    """A polling station from the registry officials import."""

    __tablename__ = "tps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kelurahan_code: Mapped[str] = mapped_column(ForeignKey("kelurahan.code"))
    number: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(255))
    map_url: Mapped[str | None] = mapped_column(String(255), nullable=True)

    areas: Mapped[list[TpsArea]] = relationship(back_populates="tps", cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("kelurahan_code", "number"),)


class TpsArea(Base):
    """An RW (and optionally one RT of it) that a TPS serves."""

    __tablename__ = "tps_areas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tps_id: Mapped[int] = mapped_column(ForeignKey("tps.id", ondelete="CASCADE"), index=True)
    rw: Mapped[int] = mapped_column(Integer)
    rt: Mapped[int | None] = mapped_column(Integer, nullable=True)

    tps: Mapped[Tps] = relationship(back_populates="areas")


class Neighbourhood(Base):
    """The city's official list of RW and RT, for coverage reports."""

    __tablename__ = "neighbourhoods"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kelurahan_code: Mapped[str] = mapped_column(ForeignKey("kelurahan.code"))
    rw: Mapped[int] = mapped_column(Integer)
    rt: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (UniqueConstraint("kelurahan_code", "rw", "rt"),)


class FlowState(Base):
    """Where a user is in a multi-step flow (/daftar, /siaran, …), so a restart loses nothing.

    One row per kind, chat and user: starting a flow again replaces it, and `token` (carried by
    the flow's buttons) tells a press of the current flow from one of a replaced flow.
    """

    __tablename__ = "flow_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)  # 0: the chat's flow, not one user's
    token: Mapped[str] = mapped_column(String(16))
    step: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("kind", "chat_id", "user_id"),)


class QuestionStatus(enum.StrEnum):
    DRAFT = "draft"  # the bot could not answer; the resident may still forward it
    OPEN = "open"  # forwarded: in the officials' inbox
    ANSWERED = "answered"


class ResidentQuestion(Base):
    """A resident's question the bot could not answer, for the officials' inbox (/pertanyaan).

    The text is stored with anything NIK-shaped masked; partisan questions are never stored.
    """

    __tablename__ = "resident_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(BigInteger, index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    kelurahan_code: Mapped[str | None] = mapped_column(ForeignKey("kelurahan.code"), nullable=True)
    status: Mapped[QuestionStatus] = mapped_column(_enum(QuestionStatus))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    forwarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    # the intent an editor gave it, for the labelled set (python -m bot questions label)
    intent: Mapped[str | None] = mapped_column(String(32), nullable=True)
    exported: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_resident_questions_inbox", "status", "kelurahan_code"),)


class ReachOutcome(enum.StrEnum):
    """What a pre-flight check found for one group (domain/preflight.py)."""

    OK = "ok"  # the bot is in the group and may send
    KICKED = "kicked"  # an admin removed the bot
    LEFT = "left"  # the bot is no longer a member
    NOT_FOUND = "not_found"  # the chat is gone
    CANNOT_SEND = "cannot_send"  # restricted, or the group is closed to members
    UNKNOWN = "unknown"  # Telegram did not answer after retries


class PreflightCheck(Base):
    """One group as one pre-flight run found it; a run is the rows sharing `run_at`."""

    __tablename__ = "preflight_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)  # after following a migration
    # Set when the check found the group had become a supergroup (and moved the row).
    migrated_from_chat_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    outcome: Mapped[ReachOutcome] = mapped_column(_enum(ReachOutcome))
    detail: Mapped[str] = mapped_column(String(255), default="")
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseStatus(enum.StrEnum):
    """A field case's state (issue 13): new → being handled → done, or referred elsewhere."""

    NEW = "baru"
    HANDLING = "ditangani"
    DONE = "selesai"
    REFERRED = "dirujuk"


class FieldCase(Base):
    """One problem in one place, however many leaders reported it (domain.field.cases).

    The place is copied from the reporting group's registration when the case opens, so a
    group that later re-registers elsewhere does not move its old cases.
    """

    __tablename__ = "field_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kecamatan_code: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    kelurahan_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    rw: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rt: Mapped[int | None] = mapped_column(Integer, nullable=True)
    category: Mapped[str] = mapped_column(String(20))
    tps: Mapped[str | None] = mapped_column(String(8), nullable=True)
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus), index=True)
    assigned_to: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    report_count: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_report_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Sent to the kecamatan's officials and the root admins because nobody took it in time.
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Listed again in the posko because it stayed open too long.
    relisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Where the case is shown in the posko (None until posted, on its own or in a digest).
    posko_chat_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    posko_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # The message is a digest listing several cases, not this case's own card.
    posko_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_field_cases_place", "kelurahan_code", "rw", "rt", "category", "last_report_at"),
    )


class FieldReport(Base):
    """One report from the field: by /lapor, or opened by a check-in answer (`source`)."""

    __tablename__ = "field_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("field_cases.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="SET NULL"), nullable=True, index=True
    )
    kecamatan_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    kelurahan_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    rw: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rt: Mapped[int | None] = mapped_column(Integer, nullable=True)
    category: Mapped[str] = mapped_column(String(20))
    # A category's detail (logistik: belum_tiba, kurang, rusak), or None.
    detail: Mapped[str | None] = mapped_column(String(20), nullable=True)
    tps: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # As written, with 16-digit (NIK-shaped) numbers masked.
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Telegram file ids of the photos (never downloaded).
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    reporter_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    # The chat the report came from: the reporter is told of each change there.
    source_chat_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # "lapor", or "checkin:<id>" for a report a check-in answer opened.
    source: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class FieldCaseEvent(Base):
    """Every transition of a case (also written to the audit log)."""

    __tablename__ = "field_case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("field_cases.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # None: the system
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class PoskoGroup(Base):
    """A group chat officials made their operations room: the city's, or one kecamatan's."""

    __tablename__ = "posko_groups"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # None: the city posko. At most one active posko per scope (domain.field.posko).
    kecamatan_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    title: Mapped[str] = mapped_column(String(255), default="")
    set_by: Mapped[int] = mapped_column(BigInteger)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PreflightRun(Base):
    """A scheduled pre-flight (profile `[preflight] at`): claimed once, run, reported once."""

    __tablename__ = "preflight_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "H-3 10.00" as the profile writes it: one run per slot, ever.
    slot: Mapped[str] = mapped_column(String(40), unique=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The PreflightCheck.run_at of the rows this run stored; None until it finished.
    run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    groups: Mapped[int] = mapped_column(Integer, default=0)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    retry_after: Mapped[int] = mapped_column(Integer, default=0)
    # Officials the result was sent to (after it was sent: never twice).
    reported_to: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PreflightReport(Base):
    """One official told of a scheduled pre-flight's result: written right after the send, so a
    run interrupted between two officials tells only those not yet told when it runs again."""

    __tablename__ = "preflight_reports"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("preflight_runs.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # False: Telegram refused (never started the bot); tried again only by a later slot.
    delivered: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class EscalationStep(Base):
    """One step of an acknowledgement chain taken for one still-silent group (domain.escalation).

    The row is written before anything is sent, so a step is taken at most once per group.
    """

    __tablename__ = "escalation_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[int] = mapped_column(Integer)  # index in the chain, from 0
    action: Mapped[str] = mapped_column(String(20))  # grup, admin, lurah, camat
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    # How many people (or chats) were told about this group at this step; 0: nobody reachable.
    notified: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("broadcast_id", "step", "group_id"),)


class CheckInAnswer(Base):
    """One press of a check-in's answer button (scheduler.checkin); every press is kept.

    The group's answer is the latest press of one of its admins (the RT/RW leaders); members'
    presses are kept beside it and counted apart. Never the presser's name.
    """

    __tablename__ = "checkin_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    answer: Mapped[str] = mapped_column(String(12))
    pressed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_checkin_answers_broadcast_group", "broadcast_id", "group_id"),)


class CheckInFollowUp(Base):
    """A check-in answer that opened a report for its group (one per check-in and group).

    Kept whatever the report store is: `report_ref` is what it returned (None when the bot runs
    without one: then this row is the record that a report is needed).
    """

    __tablename__ = "checkin_followups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    answer: Mapped[str] = mapped_column(String(12))
    category: Mapped[str] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    report_ref: Mapped[str | None] = mapped_column(String(40), nullable=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    described_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (UniqueConstraint("broadcast_id", "group_id"),)


class CheckInSilence(Base):
    """The no-answer list of a check-in, sent once after its deadline."""

    __tablename__ = "checkin_silences"

    broadcast_id: Mapped[int] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True
    )
    silent_groups: Mapped[int] = mapped_column(Integer, default=0)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    listed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CheckInSilenceNotice(Base):
    """One official's copy of a check-in's no-answer list: recorded with the claim, marked sent
    only after Telegram took it (migration 0012). A crash in between sends it on the next run;
    a sent one is never sent again; a chat that refuses it for good is given up (`failed_at`)."""

    __tablename__ = "checkin_silence_notices"

    broadcast_id: Mapped[int] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(String(200), nullable=True)
