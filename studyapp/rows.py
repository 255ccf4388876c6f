"""The reads on every participant request, with their SQL written once per process.

Django's ORM compiles a query's SQL anew on every call. For the participant with their study
and version, compiling took 0.8 of the read's 1.5 ms of CPU (PostgreSQL answered in 0.2),
and in a py-spy profile of the demo study half of a participant request's time went to the
ORM's compiler. These few reads run on every page, answer and event, so their SELECT is
built here once from the models' own fields, and each row becomes model instances through
the same converters the ORM applies (``tests/studyapp/test_rows.py`` compares the two).

Everything else keeps the ORM: only reads whose shape never changes belong here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db import connection
from django.db.models import Field, Model

Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class Part:
    """One table of a read: its model and alias in the SQL, and the instance it hangs from
    (``parent`` alias and the foreign key's name there; none for the row's own model)."""

    model: type[Model]
    alias: str
    parent: str = ""
    relation: str = ""

    @cached_property
    def fields(self) -> list[Field[Any, Any]]:
        return list(self.model._meta.concrete_fields)

    @cached_property
    def attnames(self) -> list[str]:
        return [f.attname for f in self.fields]

    @cached_property
    def pk_at(self) -> int:
        return self.fields.index(self.model._meta.pk)

    def columns(self, quote: Callable[[str], str]) -> list[str]:
        return [f"{quote(self.alias)}.{quote(f.column)}" for f in self.fields]

    def instance(self, values: list[Any]) -> Model | None:
        """The model instance of these values; none for a LEFT JOIN that found no row."""
        if values[self.pk_at] is None:
            return None
        return self.model.from_db(connection.alias, self.attnames, values)


@dataclass
class _Compiled:
    sql: str
    converters: list[list[Converter]]
    expressions: list[Any]


@dataclass
class JoinedRead:
    """``SELECT`` of every field of ``parts`` (the first is the row's own model) and of the
    ``extra`` SQL expressions (set as attributes on the first instance), over ``tables``
    (the FROM and JOIN clauses, with the parts' aliases) and ``where`` (with ``%s``
    parameters). ``lock`` locks the first part's row (``FOR UPDATE OF``, where the database
    has row locks) for the caller's transaction.

    A part joined with LEFT JOIN whose row is missing gives ``None`` (its primary key is
    NULL), as ``select_related`` does.
    """

    parts: Sequence[Part]
    tables: str
    where: str
    extra: dict[str, str] = field(default_factory=dict)
    lock: bool = False
    _compiled: dict[str, _Compiled] = field(default_factory=dict, repr=False)

    def one(self, *params: Any) -> Any:
        """The first row's instance, its joined instances attached, or ``None``."""
        compiled = self._compile()
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        values = [_converted(value, converters, expression) for value, converters, expression
                  in zip(row, compiled.converters, compiled.expressions, strict=True)]
        return self._instances(values)

    def _instances(self, values: list[Any]) -> Model:
        built: dict[str, Model | None] = {}
        start = 0
        for part in self.parts:
            width = len(part.fields)
            instance = part.instance(values[start:start + width])
            start += width
            built[part.alias] = instance
            parent = built.get(part.parent) if part.parent else None
            if parent is not None:
                setattr(parent, part.relation, instance)
        root = built[self.parts[0].alias]
        assert root is not None
        for name, value in zip(self.extra, values[start:], strict=True):
            setattr(root, name, value)
        return root

    def _compile(self) -> _Compiled:
        """The SQL and converters for the current database, built at the first call."""
        compiled = self._compiled.get(connection.vendor)
        if compiled is None:
            compiled = self._compiled[connection.vendor] = self._build()
        return compiled

    def _build(self) -> _Compiled:
        quote = connection.ops.quote_name
        columns = [c for part in self.parts for c in part.columns(quote)]
        columns += [f"({sql}) AS {quote(name)}" for name, sql in self.extra.items()]
        sql = f"SELECT {', '.join(columns)} FROM {self.tables} WHERE {self.where}"
        if self.lock and connection.features.has_select_for_update_of:
            sql += f" FOR UPDATE OF {quote(self.parts[0].alias)}"
        elif self.lock and connection.features.has_select_for_update:
            sql += " FOR UPDATE"
        expressions: list[Any] = [f.get_col(part.alias) for part in self.parts
                                  for f in part.fields]
        converters = [connection.ops.get_db_converters(e) + e.get_db_converters(connection)
                      for e in expressions]
        expressions += [None] * len(self.extra)
        converters += [[] for _ in self.extra]
        return _Compiled(sql, converters, expressions)


def _converted(value: Any, converters: list[Converter], expression: Any) -> Any:
    for convert in converters:
        value = convert(value, expression, connection)
    return value


def table(model: type[Model], alias: str) -> str:
    """``"table" "alias"`` for a FROM or JOIN clause (standard SQL quoting, which both
    PostgreSQL and SQLite use)."""
    return f'"{model._meta.db_table}" "{alias}"'
