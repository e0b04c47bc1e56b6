"""What a `batch_alter_table` block asks for, noted before Alembic turns it into SQL.

On SQLite a batch is a table rebuild: its SQL (create a copy, copy the rows over, drop
the table, rename the copy) shows neither a dropped column nor a changed type, and
without `copy_from` it cannot be rendered offline at all. So lint also reads the
batch's operations. Alembic offers no hook for them: while an offline render runs,
BatchOperationsImpl.flush is wrapped to note them first. The render is synchronous
(nothing else runs meanwhile) and the wrapper is removed when it ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from alembic.operations.batch import BatchOperationsImpl
from sqlalchemy import Column


@dataclass(frozen=True, slots=True)
class BatchOperation:
    """One operation of a batch block, in Alembic's words (drop_column, alter_column...)."""

    table: str
    operation: str
    column: str | None = None
    new_type: str | None = None  # alter_column(type_=...)
    new_name: str | None = None  # alter_column(new_column_name=...)
    nullable: bool | None = None  # alter_column(nullable=...), or the added column's
    server_default: bool = False  # the added column has one

    def describe(self) -> str:
        """E.g. `batch_alter_table('users'): alter_column('role', type_=TEXT)`."""
        arguments = [repr(self.column)] if self.column is not None else []
        if self.new_type is not None:
            arguments.append(f"type_={self.new_type}")
        if self.new_name is not None:
            arguments.append(f"new_column_name={self.new_name!r}")
        if self.operation == "alter_column" and self.nullable is not None:
            arguments.append(f"nullable={self.nullable}")
        return f"batch_alter_table({self.table!r}): {self.operation}({', '.join(arguments)})"


@contextmanager
def batch_operations_noted(note: Callable[[list[BatchOperation]], None]) -> Iterator[None]:
    """Tell `note` each batch block's operations as the block ends, before its SQL."""
    flush = BatchOperationsImpl.flush

    def noting_flush(impl: BatchOperationsImpl) -> None:
        note([_operation(impl.table_name, *entry) for entry in impl.batch])
        flush(impl)

    BatchOperationsImpl.flush = noting_flush  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        BatchOperationsImpl.flush = flush  # type: ignore[method-assign]


def _operation(
    table: str, operation: str, args: tuple[Any, ...], kw: dict[str, Any]
) -> BatchOperation:
    # Alembic's toimpl calls: (table_name, column_name | Column, **changes).
    target = args[1] if len(args) > 1 else None
    if isinstance(target, Column):
        default = target.server_default is not None
        return BatchOperation(
            table, operation, target.name, nullable=target.nullable, server_default=default
        )
    new_type = kw.get("type_")
    return BatchOperation(
        table,
        operation,
        column=target if isinstance(target, str) else None,
        new_type=None if new_type is None else str(new_type),
        new_name=kw.get("name"),
        nullable=kw.get("nullable"),
    )
