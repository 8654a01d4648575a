"""Typed access to what SQLModel's type stubs leave out: a stored row's id, a primary key column as
read back, a model's Core table, a select of many columns, and statements ``AsyncSession.exec`` runs
but does not type."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

import sqlalchemy as sa
from pydantic.fields import FieldInfo
from sqlalchemy.orm import Mapped, attributes, make_transient_to_detached
from sqlalchemy.sql.base import Executable
from sqlmodel import SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

Model = TypeVar("Model")  # a table model


class Identified(Protocol):
    @property
    def id(self) -> int | None: ...


def saved_id(row: Identified) -> int:
    """The primary key of a row read from the database or flushed to it (models declare ``int | None``)."""
    row_id = row.id
    if row_id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: add and flush it first")
    return row_id


def keep(session: AsyncSession, *rows: Any) -> None:
    """Keep ``rows`` referenced as long as ``session`` lives: its identity map holds rows weakly, and the
    operation's answer (after the commit) would read again what its use case already read."""
    session.info.setdefault("kept_rows", []).extend(row for row in rows if row is not None)


async def row_by_key(session: AsyncSession, model: type[Model], key: Any) -> Model | None:
    """``session.get(model, key)``: the row the session holds, loaded, is answered without the greenlet hop
    that every ``AsyncSession.get`` costs (a booking asks for her, her store… several times); anything else
    (not held, expired) is the session's own ``get``."""
    held = session.sync_session.identity_map.get(_mapper_of(cast(Any, model)).identity_key_from_primary_key([key]))
    if held is not None and isinstance(held, model) and not sa.inspect(held).expired:
        return held
    return await session.get(model, key)


@functools.cache
def _mapper_of(model: Any) -> Any:
    """``sa.inspect(model)``, once per model (1.5 µs a call, a dozen a booking)."""
    return sa.inspect(model)


def pk(column: int | None) -> Mapped[int]:
    """A primary key column (``Model.id``) to select: what it reads back is never NULL."""
    return cast("Mapped[int]", col(column))


@functools.cache
def table_of(model: type[SQLModel]) -> sa.Table:
    """The Core table of a table model (SQLModel's type stubs leave ``__table__`` out)."""
    return cast(sa.Table, sa.inspect(model).local_table)


def select_columns(*columns: Any) -> Select[*tuple[Any, ...]]:
    """``select()`` of more than four columns: its overloads stop at four (it builds this same Select)."""
    return Select(*columns)


async def exec_any(session: AsyncSession, statement: Executable, params: Any = None) -> sa.Result[*tuple[Any, ...]]:
    """``session.exec`` of a statement its overloads do not name (text, a UNION): its body runs any."""
    return await session.exec(statement, params=params)  # type: ignore[call-overload]


def model_columns(model: type[SQLModel]) -> list[sa.Column[Any]]:
    """A table model's columns, in the order :func:`as_model` reads them: to select it among other columns in
    a Core statement (which ``server.prepared`` can run by asyncpg; a select of the model itself the ORM runs)."""
    return [attribute.columns[0] for attribute in sa.inspect(model).column_attrs]


def as_model(model: type[Model], values: Sequence[Any]) -> Model:
    """The model's row of its columns' values, in :func:`model_columns` order, built as the session builds a
    row it reads (not validated again; about 5 µs against 30 for the model's constructor), detached: in no
    session, as a row is once its session ends."""
    build = _detached_builder(cast(Any, model))
    return cast(Model, build(values))


@functools.cache
def _detached_builder(model: type[SQLModel]) -> Callable[[Sequence[Any]], Any]:
    """How :func:`as_model` builds a row of ``model``. Every column is given a value, so of what
    ``make_transient_to_detached`` does (a third of a ``me``'s two rows) only the identity key is left to
    set: nothing is unloaded to expire, and a new state has no history to commit. A model with any other
    attribute (a relationship, which would be unloaded) goes SQLAlchemy's own way."""
    mapper = sa.inspect(model)
    new_instance, names = mapper.class_manager.new_instance, _attribute_names(model)
    only_columns = len(mapper.attrs) == len(names)
    identity_key, key_positions = mapper.identity_key_from_primary_key, _key_positions(model)

    def built(values: Sequence[Any]) -> Any:
        instance = new_instance()
        instance.__dict__.update(zip(names, values, strict=True))
        if only_columns:
            attributes.instance_state(instance).key = identity_key([values[n] for n in key_positions])
        else:
            make_transient_to_detached(instance)
        return instance

    return built


def new_row(model: type[Model], **values: Any) -> Model:
    """A new row of the model, in no session, its defaults filled in: what the model's constructor makes,
    for a row written by a prebuilt statement. A table model's constructor does not validate either; this
    skips its attribute event per column (about 5 µs against 66 for a task's). A name that is not a column,
    or a column without a default left out, is refused."""
    plan = _new_row_plan(cast(Any, model))
    if not (values.keys() <= plan.names and plan.required <= values.keys()):
        unknown = values.keys() - plan.names
        missing = [name for name, _ in plan.fields if name in plan.required and name not in values]
        raise TypeError(f"{cast(Any, model).__name__}: no column {sorted(unknown)}; missing {missing}")
    instance = plan.new_instance()
    state = instance.__dict__
    for name, default in plan.fields:
        state[name] = values[name] if name in values else default()
    return cast(Model, instance)


def column_values(row: Any, *, exclude: str | None = None) -> dict[str, Any]:
    """A row built by :func:`new_row`, as its columns' values by name (for its prebuilt INSERT): what
    ``model_dump`` gives, without pydantic's serializer."""
    state = row.__dict__
    return {name: state[name] for name, _ in _new_row_plan(cast(Any, type(row))).fields if name != exclude}


@dataclass(frozen=True, slots=True)
class _NewRowPlan:
    """What :func:`new_row` needs of a model, worked out once: each field's default made anew per row."""

    new_instance: Callable[[], Any]
    names: frozenset[str]
    required: frozenset[str]
    fields: tuple[tuple[str, Callable[[], Any]], ...]  # in field order; a required field's default is never called


@functools.cache
def _new_row_plan(model: type[SQLModel]) -> _NewRowPlan:
    fields = dict(model.model_fields)
    return _NewRowPlan(
        new_instance=sa.inspect(model).class_manager.new_instance,
        names=frozenset(fields),
        required=frozenset(name for name, field in fields.items() if field.is_required()),
        fields=tuple((name, _default_of(field)) for name, field in fields.items()),
    )


def _default_of(field: FieldInfo) -> Callable[[], Any]:
    """The field's default, as pydantic makes it: a factory called, an immutable value as it is, any other
    value copied (``get_default`` copies a mutable one). A factory that takes no argument is called as it is
    (``get_default`` looks at its signature on every call: 8 µs of a booking's)."""
    factory = field.default_factory
    if factory is not None and not field.default_factory_takes_validated_data:
        return cast(Callable[[], Any], factory)
    if factory is not None or not isinstance(field.default, _IMMUTABLE):
        return functools.partial(field.get_default, call_default_factory=True)
    value = field.default
    return lambda: value


_IMMUTABLE = (type(None), bool, int, float, str, bytes)


@functools.cache
def _attribute_names(model: type[SQLModel]) -> tuple[str, ...]:
    return tuple(attribute.key for attribute in sa.inspect(model).column_attrs)


def held_by(session: AsyncSession, model: type[Model], values: Sequence[Any]) -> Model:
    """The session's own row of the model's columns' values (:func:`model_columns` order), as if the session
    had read it: what it holds for that key already, or the row built and taken in (nothing is sent; a later
    lookup by primary key finds it, and a change to it is flushed). A row the session holds keeps its own
    values, as the session keeps them when it reads a row again; only those it has not loaded (expired by a
    rollback or by ``expire``) are filled in."""
    sync = session.sync_session
    mapper = _mapper_of(cast(Any, model))
    held = sync.identity_map.get(
        mapper.identity_key_from_primary_key([values[n] for n in _key_positions(cast(Any, model))])
    )
    if held is None:
        row = as_model(model, values)
        sync.add(row)
        return row
    unloaded = sa.inspect(held).unloaded
    if unloaded:
        for name, value in zip(_attribute_names(cast(Any, model)), values, strict=True):
            if name in unloaded:
                attributes.set_committed_value(held, name, value)
    return cast(Model, held)


@functools.cache
def _key_positions(model: type[SQLModel]) -> tuple[int, ...]:
    """Where the primary key's columns are among :func:`model_columns`."""
    columns = model_columns(model)
    return tuple(next(n for n, each in enumerate(columns) if each is key) for key in sa.inspect(model).primary_key)


def held_rows(session: AsyncSession, values: Sequence[Any], *models: type[SQLModel]) -> list[Any]:
    """Each model's row (:func:`held_by`) of a statement's columns, those of each model in turn
    (:func:`model_columns`); None for a model an outer join found no row of (all its columns NULL)."""
    rows: list[Any] = []
    start = 0
    for model in models:
        end = start + len(_attribute_names(cast(Any, model)))
        own = values[start:end]
        rows.append(held_by(session, model, own) if any(value is not None for value in own) else None)
        start = end
    return rows
