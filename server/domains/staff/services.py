"""Staff and team use cases, with store scope for managers."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, delete, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ...prepared import any_of, run
from ...unit_of_work import use_case
from ..catalog.services import categories_by_ids, services_by_ids
from ..common.actor import STORE_ROLES, Actor, Role
from ..common.dialect import among_bound, dialect_of
from ..common.errors import CommonErrorCode as Common
from ..common.errors import DomainError, Forbidden
from ..common.idempotency import create_once
from ..common.lookup import links_by_owner, rows_by_id
from ..common.rows import as_model, exec_any, model_columns, saved_id, select_columns, table_of
from ..common.validation import Validator, not_found
from ..stores.models import Store
from ..stores.services import stores_by_ids
from . import hooks
from .errors import StaffErrorCode as Code
from .models import StaffSkillCategory, StaffSkillService, StaffUser, Team, TeamMember
from .passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, hash_password

# Scopes of idempotency keys, stored with each key's record: renaming one forgets the keys given.
STAFF_KEY_SCOPE = "staffCreate"
TEAM_KEY_SCOPE = "teamCreate"

USERNAME_PATTERN = r"[a-z0-9][a-z0-9._-]{2,31}"


@dataclass(frozen=True)
class StaffDraft:
    username: str
    password: str
    display_name: str
    role: Role
    store_id: int | None = None
    category_ids: Sequence[int] = field(default_factory=tuple)
    service_ids: Sequence[int] = field(default_factory=tuple)


@dataclass(frozen=True)
class StaffChanges:
    display_name: str | None = None
    password: str | None = None
    role: Role | None = None
    store_id: int | None = None
    category_ids: Sequence[int] | None = None
    service_ids: Sequence[int] | None = None


def normalize_username(username: str) -> str:
    return username.strip().lower()


def _authorize_staff_write(actor: Actor, role: Role, store_id: int | None) -> None:
    """HQ admins manage everyone; a manager manages the guides of her own store."""
    if actor.has_role(Role.HQ_ADMIN):
        return
    if actor.has_role(Role.STORE_MANAGER) and role is Role.GUIDE and store_id == actor.store_id:
        return
    raise Forbidden("only HQ admins, or managers for guides of their own store")


def _check_password(check: Validator, password: str | None) -> None:
    if password is None:
        return
    if len(password) < MIN_PASSWORD_LENGTH:
        check.add(Code.PASSWORD_TOO_SHORT, f"password needs at least {MIN_PASSWORD_LENGTH} characters", ("password",))
    elif len(password) > MAX_PASSWORD_LENGTH:
        check.add(Common.TOO_LONG, f"password takes at most {MAX_PASSWORD_LENGTH} characters", ("password",))


async def _check_assignment(session: AsyncSession, check: Validator, role: Role, store_id: int | None) -> None:
    if role in STORE_ROLES and store_id is None:
        check.add(Code.STORE_REQUIRED, f"a {role.value} belongs to a store", ("storeId",))
    elif role not in STORE_ROLES and store_id is not None:
        check.add(Code.STORE_NOT_ALLOWED, f"a {role.value} has no store", ("storeId",))
    elif store_id is not None and not await stores_by_ids(session, [store_id]):
        check.add(Common.NOT_FOUND, "store not found", ("storeId",))


async def _check_skills(session: AsyncSession, check: Validator, categories, services) -> None:
    if categories and len(await categories_by_ids(session, list(set(categories)))) != len(set(categories)):
        check.add(Common.NOT_FOUND, "a category was not found", ("skillCategoryIds",))
    if services and len(await services_by_ids(session, list(set(services)))) != len(set(services)):
        check.add(Common.NOT_FOUND, "a service was not found", ("skillServiceIds",))


async def _replace_skills(session: AsyncSession, staff_id: int, categories, services) -> None:
    if categories is not None:
        await session.exec(delete(StaffSkillCategory).where(col(StaffSkillCategory.staff_id) == staff_id))
        session.add_all(StaffSkillCategory(staff_id=staff_id, category_id=c) for c in set(categories))
    if services is not None:
        await session.exec(delete(StaffSkillService).where(col(StaffSkillService.staff_id) == staff_id))
        session.add_all(StaffSkillService(staff_id=staff_id, service_id=s) for s in set(services))


@use_case
async def create_staff(
    session: AsyncSession, actor: Actor, draft: StaffDraft, idempotency_key: str | None = None
) -> StaffUser:
    _authorize_staff_write(actor, draft.role, draft.store_id)
    check = Validator()
    username = check.text(
        ("username",),
        draft.username and normalize_username(draft.username),
        max_length=32,
        min_length=3,
        pattern=USERNAME_PATTERN,
        pattern_hint="3-32 characters: a-z, 0-9, '.', '_' or '-'",
    )
    check.text(("displayName",), draft.display_name, max_length=64)
    _check_password(check, draft.password)
    await _check_assignment(session, check, draft.role, draft.store_id)
    await _check_skills(session, check, draft.category_ids, draft.service_ids)
    check.raise_if_any()

    duplicate = DomainError.single(Code.DUPLICATE_USERNAME, "username is taken", ("username",))

    async def create():
        taken = await session.exec(select(func.count()).where(StaffUser.username == username))
        if taken.one():
            raise duplicate
        staff = StaffUser(
            username=username,
            password_hash=await hash_password(draft.password),
            display_name=draft.display_name.strip(),
            role=draft.role.value,
            store_id=draft.store_id,
        )
        session.add(staff)
        await session.flush()
        await _replace_skills(session, staff.id, draft.category_ids, draft.service_ids)
        return staff

    fingerprint = {**asdict(draft), "password": None}  # the password is not kept, even hashed
    return await create_once(
        session,
        actor=actor.key,
        scope=STAFF_KEY_SCOPE,
        key=idempotency_key,
        payload=fingerprint,
        create=create,
        duplicate=duplicate,
        model=StaffUser,
    )


async def _load_for_write(
    session: AsyncSession, actor: Actor, staff_id: int, path: tuple[str, ...] = ("id",)
) -> StaffUser:
    staff = await session.get(StaffUser, staff_id)
    if staff is None:
        raise not_found("staff member", path)
    _authorize_staff_write(actor, Role(staff.role), staff.store_id)
    return staff


@use_case
async def update_staff(
    session: AsyncSession, actor: Actor, staff_id: int, changes: StaffChanges, now: datetime
) -> StaffUser:
    staff = await _load_for_write(session, actor, staff_id)
    role = changes.role or Role(staff.role)
    store_id = changes.store_id if changes.store_id is not None else staff.store_id
    if role not in STORE_ROLES and changes.role is not None and changes.store_id is None:
        store_id = None  # moving to an HQ role leaves the store
    _authorize_staff_write(actor, role, store_id)
    check = Validator()
    check.text(("displayName",), changes.display_name, max_length=64, required=False)
    _check_password(check, changes.password)
    await _check_assignment(session, check, role, store_id)
    await _check_skills(session, check, changes.category_ids, changes.service_ids)
    check.raise_if_any()
    if changes.display_name is not None:
        staff.display_name = changes.display_name.strip()
    if changes.password is not None:
        staff.password_hash = await hash_password(changes.password)
    if changes.password is not None or (role.value, store_id) != (staff.role, staff.store_id):
        # Tokens carry role and store: make the member sign in again.
        await hooks.access_changed(session, saved_id(staff), now)
    staff.role, staff.store_id = role.value, store_id
    await _replace_skills(session, saved_id(staff), changes.category_ids, changes.service_ids)
    staff.updated_at = now
    return staff


@use_case
async def deactivate_staff(session: AsyncSession, actor: Actor, staff_id: int, now: datetime) -> StaffUser:
    staff = await _load_for_write(session, actor, staff_id, path=("id",))
    staff.active = False
    staff.updated_at = now
    await hooks.access_changed(session, saved_id(staff), now)
    return staff


async def find_by_username(session: AsyncSession, username: str) -> StaffUser | None:
    statement = select(StaffUser).where(StaffUser.username == normalize_username(username))
    return (await session.exec(statement)).first()


async def staff_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, StaffUser]:
    return await rows_by_id(session, StaffUser, ids)


async def staff_with_store(session: AsyncSession, staff_id: int) -> tuple[StaffUser, Store | None] | None:
    """A staff member with her store (None for HQ roles), in one statement (``me`` asks it every screen); None
    if there is no such staff member."""
    row = (await run(session, _STAFF_WITH_STORE, {"id": staff_id})).first()
    if row is None:
        return None
    store = as_model(Store, row[_STAFF_WIDTH:])
    return as_model(StaffUser, row[:_STAFF_WIDTH]), store if store.id is not None else None  # HQ: no store joined


_STAFF_WIDTH = len(model_columns(StaffUser))
# Her id bound as one value (not an array of one): PostgreSQL's plan of the prepared statement is a key lookup.
_STAFF_WITH_STORE = (
    select_columns(*model_columns(StaffUser), *model_columns(Store))
    .select_from(table_of(StaffUser).outerjoin(table_of(Store), table_of(Store).c.id == table_of(StaffUser).c.store_id))
    .where(table_of(StaffUser).c.id == sa.bindparam("id"))
)


async def skills_by_staff(session: AsyncSession, staff_ids: Sequence[int]):
    """(category ids, service ids) per staff id."""
    skills: dict[int, tuple[list[int], list[int]]] = {staff_id: ([], []) for staff_id in staff_ids}
    statement = _skills_of_staff(dialect_of(session))
    for staff_id, target, kind in (await exec_any(session, statement, {"ids": list(staff_ids)})).all():
        skills[staff_id][0 if kind == "category" else 1].append(target)
    return skills


@functools.cache
def _skills_of_staff(dialect: str):
    """Built once (dispatch reads the skills of a store's guides for every booking)."""
    categories = sa.select(
        col(StaffSkillCategory.staff_id), col(StaffSkillCategory.category_id), sa.literal("category")
    ).where(any_of(col(StaffSkillCategory.staff_id), "ids", dialect))
    services = sa.select(
        col(StaffSkillService.staff_id), col(StaffSkillService.service_id), sa.literal("service")
    ).where(any_of(col(StaffSkillService.staff_id), "ids", dialect))
    return sa.union_all(categories, services).order_by(sa.literal_column("2"))


@functools.cache
def staff_with_matching_skills(staff: int, categories: int):
    """The ``staff`` staff bound as ``ids``, each with how many of the ``categories`` bound as ``categories``
    (both with ``common.dialect.bound_each``) and of ``service_id`` she is skilled in: a SELECT of (id,
    matches) built once per count of each, for a caller to add columns about each one."""
    staff_id = col(StaffUser.id)
    category_matches = (
        select(func.count())
        .where(
            col(StaffSkillCategory.staff_id) == staff_id,
            among_bound(col(StaffSkillCategory.category_id), "categories", categories),
        )
        .scalar_subquery()
    )
    service = (
        select(func.count())
        .where(
            col(StaffSkillService.staff_id) == staff_id, col(StaffSkillService.service_id) == sa.bindparam("service_id")
        )
        .scalar_subquery()
    )
    matches = (category_matches + service).label("matches")
    return select(staff_id, matches).where(among_bound(staff_id, "ids", staff))


def can_read_staff(actor: Actor, staff: StaffUser) -> bool:
    if actor.key == f"staff:{staff.id}" or actor.has_role(Role.HQ_ADMIN, Role.ANALYST):
        return True
    return actor.has_role(Role.STORE_MANAGER) and staff.store_id == actor.store_id


def staff_listing(actor: Actor, *, store_id: int | None = None, role: Role | None = None):
    """HQ sees everyone; a manager her store; anyone else only herself."""
    statement = select(StaffUser)
    if actor.has_role(Role.HQ_ADMIN, Role.ANALYST):
        pass
    elif actor.has_role(Role.STORE_MANAGER):
        if store_id is not None and store_id != actor.store_id:
            raise Forbidden("another store")
        store_id = actor.store_id
    else:
        raise Forbidden("staff listing needs HQ_ADMIN, ANALYST or STORE_MANAGER")
    if store_id is not None:
        statement = statement.where(StaffUser.store_id == store_id)
    if role is not None:
        statement = statement.where(StaffUser.role == role.value)
    return statement


@dataclass(frozen=True)
class TeamDraft:
    name: str
    member_ids: Sequence[int] = field(default_factory=tuple)


@use_case
async def create_team(
    session: AsyncSession, actor: Actor, draft: TeamDraft, idempotency_key: str | None = None
) -> Team:
    actor.require_role(Role.HQ_ADMIN)
    check = Validator()
    name = check.text(("name",), draft.name, max_length=64)
    check.count(("memberIds",), draft.member_ids, 100)
    members = await staff_by_ids(session, list(set(draft.member_ids)))
    if len(members) != len(set(draft.member_ids)) or any(
        m.role != Role.LIVESTREAM_OPS.value or not m.active for m in members.values()
    ):
        check.add(Code.INVALID_MEMBER, "members must be active LIVESTREAM_OPS staff", ("memberIds",))
    check.raise_if_any()

    duplicate = DomainError.single(Code.DUPLICATE_NAME, "team name is taken", ("name",))

    async def create():
        taken = await session.exec(select(func.count()).where(Team.name == name))
        if taken.one():
            raise duplicate
        team = Team(name=name)
        session.add(team)
        await session.flush()
        session.add_all(TeamMember(team_id=team.id, staff_id=m) for m in members)
        return team

    return await create_once(
        session,
        actor=actor.key,
        scope=TEAM_KEY_SCOPE,
        key=idempotency_key,
        payload=asdict(draft),
        create=create,
        duplicate=duplicate,
        model=Team,
    )


async def teams_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Team]:
    return await rows_by_id(session, Team, ids)


async def member_ids_by_team(session: AsyncSession, team_ids: Sequence[int]) -> dict[int, list[int]]:
    return await links_by_owner(session, TeamMember, "team_id", "staff_id", team_ids)


def team_listing():
    return select(Team)
