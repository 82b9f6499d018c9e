"""Brands, members and API keys. Every query on brand-owned rows filters by brand_id."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Uuid, bindparam, func, select, update
from sqlalchemy.orm import Session

from accord.brands import keys
from accord.brands.models import ApiKey, Brand, Member
from accord.brands.schemas import ApiKeyCreate, BrandCreate, BrandUpdate, MemberCreate
from accord.core import throttle
from accord.core.auth import consume_magic_link, issue_magic_link
from accord.core.db import utcnow
from accord.core.direct import Direct
from accord.core.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from accord.core.loop_reads import LoopReads
from accord.core.pagination import paginate
from accord.core.permissions import Role
from accord.core.prepared import Prepared
from accord.core.principals import BrandCaller
from accord.core.read_memo import remembered
from accord.core.security import hash_password, token_hash, verify_password
from accord.core.settings import Settings
from accord.mail.service import Email, Mailer, compose

KEY_PREFIX = "acc_"
BAD_CREDENTIALS = "Invalid or missing credentials."
MEMBER = "member"
# Writing last_used_at on every request would serialise API reads on one row; a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class BrandRow(NamedTuple):
    """A brand's row as read with its caller's credential (`BrandCaller.brand`)."""

    id: uuid.UUID
    created_at: datetime
    name: str
    slug: str
    kind: str
    sender_name: str
    sender_email: str
    postal_address: str | None
    support_email: str
    send_rate_per_second: int


_BRAND = tuple(Brand.__table__.c[name] for name in BrandRow._fields)


def create_brand(session: Session, data: BrandCreate, *, secret: str) -> Brand:
    """A new brand with its own signing key (wrapped under `secret`, the instance's
    `Settings.resolved_secret_key()`)."""
    if session.scalar(select(Brand.id).where(Brand.slug == data.slug)) is not None:
        raise Conflict(f"The slug '{data.slug}' is taken.", field="slug")
    brand = Brand(**data.model_dump())
    session.add(brand)
    session.flush()
    keys.new_key(session, brand.id, secret)
    return brand


def rotate_signing_key(session: Session, brand_id: uuid.UUID, secret: str) -> str:
    """A new signing key for the brand; the old one is retired but stays published. Returns
    the new key's id."""
    get_brand(session, brand_id)
    return keys.new_key(session, brand_id, secret).kid


def signing_key(session: Session, brand_id: uuid.UUID, secret: str) -> Ed25519PrivateKey:
    """The brand's current private signing key."""
    return keys.private_key(session, brand_id, secret)[1]


def public_keys(session: Session, brand_id: uuid.UUID) -> list[dict[str, str]]:
    """The brand's public keys as JWKs, current first, retired ones after."""
    return keys.public_jwks(session, brand_id)


def get_brand(session: Session, brand_id: uuid.UUID) -> Brand:
    brand = remembered(session, ("brand", brand_id), lambda: session.get(Brand, brand_id))
    if brand is None:
        raise NotFound("No such brand.")
    return brand


def caller_brand(session: Session, caller: BrandCaller) -> Any:
    """The caller's brand: the row read with its credential (`BrandCaller.brand`, a
    `BrandRow`), else the brand itself. For a page that shows its name or address."""
    return caller.brand or get_brand(session, caller.brand_id)


def brand_names(session: Session, brand_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The names of these brands, in one statement (a list naming several brands)."""
    if not brand_ids:
        return {}
    rows = session.execute(select(Brand.id, Brand.name).where(Brand.id.in_(sorted(brand_ids))))
    return {brand_id: name for brand_id, name in rows}


def get_brand_by_slug(session: Session, slug: str) -> Brand:
    brand = session.scalars(select(Brand).where(Brand.slug == slug)).one_or_none()
    if brand is None:
        raise NotFound(f"No brand with slug '{slug}'.", field="brand")
    return brand


def update_brand(session: Session, brand_id: uuid.UUID, data: BrandUpdate) -> Brand:
    brand = get_brand(session, brand_id)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is None and name != "postal_address":
            continue
        setattr(brand, name, value)
    session.flush()
    return brand


def add_member(session: Session, brand_id: uuid.UUID, data: MemberCreate) -> Member:
    if session.scalar(select(Member.id).where(Member.email == data.email)) is not None:
        raise Conflict("A member with this e-mail address exists already.", field="email")
    member = Member(
        brand_id=brand_id,
        email=data.email,
        display_name=data.display_name,
        role=data.role.value,
        password_hash=hash_password(data.password) if data.password else None,
    )
    session.add(member)
    session.flush()
    return member


def list_members(
    session: Session, brand_id: uuid.UUID, *, cursor: str | None = None, limit: int = 50
) -> tuple[Sequence[Member], str | None]:
    query = select(Member).where(Member.brand_id == brand_id)
    return paginate(
        session, query, created_at=Member.created_at, row_id=Member.id, cursor=cursor, limit=limit
    )


# The names a page shows for its members (a conversation's authors and its assignee), in
# `list_members`' order, read as those columns on the session's cursor (`core.direct`).
_M = Member.__table__.c
_MEMBER_NAMES = Direct(
    select(_M.id, _M.display_name, _M.email)
    .where(_M.brand_id == bindparam("brand", type_=Uuid()))
    .order_by(_M.created_at.desc(), _M.id.desc())
    .limit(bindparam("limit"))
)


def member_names(session: Session, brand_id: uuid.UUID, limit: int = 50) -> list[Any]:
    """`list_members`' first page as (id, display_name, email)."""
    return _MEMBER_NAMES.all(session, brand=brand_id, limit=limit)


def member_email(session: Session, brand_id: uuid.UUID, member_id: uuid.UUID) -> str | None:
    """The member's address alone (a page that shows it need not load the member)."""
    return session.scalar(
        select(Member.email).where(Member.id == member_id, Member.brand_id == brand_id)
    )


def get_member(session: Session, brand_id: uuid.UUID, member_id: uuid.UUID) -> Member:
    member = session.scalars(
        select(Member).where(Member.id == member_id, Member.brand_id == brand_id)
    ).one_or_none()
    if member is None:
        raise NotFound("No such member.")
    return member


def sign_in_member(
    session: Session, settings: Settings, email: str, password: str, *, ip: str | None
) -> Member:
    """The member whose password this is. Throttled per account and per IP (a refused try
    while waiting is a RateLimited); a wrong password is counted, so the caller must commit
    after a NotAuthenticated too."""
    throttle.check(session, settings, email, ip)
    member = session.scalars(select(Member).where(Member.email == email)).one_or_none()
    if not verify_password(member.password_hash if member else None, password) or member is None:
        throttle.failed(session, settings, email, ip)
        raise NotAuthenticated("The e-mail address or the password is wrong.", field="password")
    throttle.succeeded(session, settings, email)
    member.last_sign_in_at = utcnow()
    session.flush()
    return member


def change_password(session: Session, member_id: uuid.UUID, current: str, new: str) -> Member:
    """Set a new password after checking the current one (a member without one may set one)."""
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound("No such member.")
    if member.password_hash is not None and not verify_password(member.password_hash, current):
        raise InvalidInput("The current password is wrong.", field="current_password")
    member.password_hash = hash_password(new)
    session.flush()
    return member


def request_member_link(
    session: Session, settings: Settings, mailer: Mailer, email: str, *, ip: str | None = None
) -> None:
    member = session.scalars(select(Member).where(Member.email == email)).one_or_none()
    token = issue_magic_link(
        session,
        settings,
        subject_kind=MEMBER,
        subject_id=member.id if member else None,
        address=email,
        ip=ip,
    )
    if member is None:
        return
    url = f"{settings.base_url}/console/auth/link?token={token}"
    text = (
        f"Use this link to sign in to the Accord brand console:\n\n{url}\n\n"
        f"It works once and expires in {settings.magic_link_minutes} minutes.\n"
    )
    message = Email(to=member.email, subject="Your Accord console sign-in link", text=text)
    mailer.send(session, compose(settings, message))


def complete_member_link(session: Session, token: str) -> Member:
    member_id = consume_magic_link(session, token, subject_kind=MEMBER)
    member = session.get(Member, member_id)
    if member is None:
        raise NotAuthenticated("This sign-in link is no longer valid.", field="token")
    member.last_sign_in_at = utcnow()
    session.flush()
    return member


# A console request's sign-in check reads the member and brand with it (`accord.brands.deps`):
# the columns it adds after the session's, as `member_caller_of` takes them.
MEMBER_CALLER_COLUMNS = (Member.role, Member.email, *_BRAND)


def member_caller_of(member_id: uuid.UUID, row: tuple[Any, ...] | None) -> BrandCaller:
    """The caller from `MEMBER_CALLER_COLUMNS`' values (None, or a brand id None: no such
    member any more)."""
    if row is None or row[2] is None:
        raise NotAuthenticated(BAD_CREDENTIALS)
    brand = BrandRow._make(row[2:])
    return BrandCaller(
        brand_id=brand.id, role=row[0], member_id=member_id, brand=brand, member_email=row[1]
    )


def create_api_key(
    session: Session, brand_id: uuid.UUID, data: ApiKeyCreate, *, created_by: uuid.UUID | None
) -> tuple[ApiKey, str]:
    """A new key and its secret; the secret exists only in this return value."""
    prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        brand_id=brand_id,
        name=data.name,
        role=data.role.value,
        prefix=f"{KEY_PREFIX}{prefix}",
        key_hash=token_hash(secret),
        created_by_id=created_by,
    )
    session.add(key)
    session.flush()
    return key, secret


def list_api_keys(
    session: Session, brand_id: uuid.UUID, *, cursor: str | None = None, limit: int = 50
) -> tuple[Sequence[ApiKey], str | None]:
    query = select(ApiKey).where(ApiKey.brand_id == brand_id)
    return paginate(
        session, query, created_at=ApiKey.created_at, row_id=ApiKey.id, cursor=cursor, limit=limit
    )


# Built once and run on the cursor (`core.direct`): the console's home asks on every view.
_HAS_API_KEY = Direct(
    select(ApiKey.id)
    .where(ApiKey.brand_id == bindparam("brand", type_=Uuid()), ApiKey.revoked_at.is_(None))
    .limit(1)
)


def has_api_key(session: Session, brand_id: uuid.UUID) -> bool:
    """A new brand's checklist step: a key its systems can call the API with."""
    return _HAS_API_KEY.first(session, brand=brand_id) is not None


_SENDER = Direct(
    select(Brand.sender_email, Brand.postal_address).where(
        Brand.id == bindparam("brand", type_=Uuid())
    )
)


def has_sender(session: Session, brand_id: uuid.UUID) -> bool:
    """A new brand's checklist step: a sender address and the postal address marketing needs.
    (Two columns on the cursor: the console's home asks on every view, and has the rest of the
    brand's row from the member's sign-in.)"""
    row = _SENDER.first(session, brand=brand_id)
    if row is None:
        raise NotFound("No such brand.")
    return bool(row.sender_email and row.postal_address)


def get_api_key(session: Session, brand_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    key = session.scalars(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.brand_id == brand_id)
    ).one_or_none()
    if key is None:
        raise NotFound("No such API key.")
    return key


def revoke_api_key(session: Session, brand_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    key = get_api_key(session, brand_id, key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.flush()
    return key


# Every API request runs it: the key and its brand's row, in one indexed statement.
_KEY_AND_BRAND = Prepared(
    select(ApiKey.id.label("key_id"), ApiKey.role, ApiKey.revoked_at, ApiKey.last_used_at, *_BRAND)
    .join_from(ApiKey, Brand, Brand.id == ApiKey.brand_id)
    .where(ApiKey.key_hash == bindparam("key_hash"))
)
_KEY_FIELDS = 4


def find_api_key(session: Session, secret: str) -> tuple[BrandCaller, bool]:
    """The caller behind a bearer key, reading only (one indexed SELECT, with the brand's row),
    and whether its `last_used_at` is due for an update (`touch_api_key`). Any failure says
    the same thing. Read from the database on every request: a revoked key stops at once."""
    row = _KEY_AND_BRAND.first(session, key_hash=_key_hash(secret))
    return _key_caller(row)


async def find_api_key_on_loop(reads: LoopReads, secret: str) -> tuple[BrandCaller, bool]:
    """`find_api_key`, read on the event loop (PostgreSQL, a session not yet begun:
    `LoopReads.serves`)."""
    return _key_caller(await reads.first(_KEY_AND_BRAND, key_hash=_key_hash(secret)))


def _key_hash(secret: str) -> str:
    if not secret.startswith(KEY_PREFIX):
        raise NotAuthenticated(BAD_CREDENTIALS)
    return token_hash(secret)


def _key_caller(row: Any) -> tuple[BrandCaller, bool]:
    if row is None or row.revoked_at is not None:
        raise NotAuthenticated(BAD_CREDENTIALS)
    stale = row.last_used_at is None or utcnow() - row.last_used_at > LAST_USED_RESOLUTION
    brand = BrandRow._make(row[_KEY_FIELDS:])
    return BrandCaller(brand_id=brand.id, role=row.role, api_key_id=row.key_id, brand=brand), stale


def touch_api_key(session: Session, api_key_id: uuid.UUID) -> None:
    session.execute(update(ApiKey).where(ApiKey.id == api_key_id).values(last_used_at=utcnow()))


def authenticate_api_key(session: Session, secret: str) -> BrandCaller:
    """The caller behind a bearer key, its last use recorded. Any failure says the same."""
    caller, stale = find_api_key(session, secret)
    if stale and caller.api_key_id is not None:
        touch_api_key(session, caller.api_key_id)
    return caller


def _owners(session: Session, brand_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Member)
            .where(Member.brand_id == brand_id, Member.role == Role.owner.value)
        )
        or 0
    )


def change_role(session: Session, brand_id: uuid.UUID, member_id: uuid.UUID, role: Role) -> Member:
    """A member's new role; the brand's last owner stays an owner (someone must manage it)."""
    member = get_member(session, brand_id, member_id)
    if member.role == Role.owner.value and role != Role.owner and _owners(session, brand_id) <= 1:
        raise Conflict(
            "The last owner cannot change role: make someone else owner first.", field="role"
        )
    member.role = role.value
    session.flush()
    return member


def remove_member(session: Session, brand_id: uuid.UUID, member_id: uuid.UUID) -> Member:
    """Take a member off the brand; never its last owner."""
    member = get_member(session, brand_id, member_id)
    if member.role == Role.owner.value and _owners(session, brand_id) <= 1:
        raise Conflict(
            "The last owner cannot be removed: make someone else owner first.", field="form"
        )
    session.delete(member)
    session.flush()
    return member
