"""A small name → object registry that rejects duplicates and lists valid names in its errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to objects (classes or factory functions).

    Usage::

        LOSSES = Registry("loss")

        @LOSSES.register("ram")
        class RegionAssessmentLoss(nn.Module): ...

        LOSSES.get("ram")
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, obj: T | None = None) -> Callable[[T], T] | T:
        """Register ``obj`` under ``name``; usable as a decorator when ``obj`` is omitted."""

        def _do(item: T) -> T:
            existing = self._items.get(name)
            if existing is not None and existing is not item:
                raise KeyError(
                    f"A {self.kind} named {name!r} is already registered "
                    f"({getattr(existing, '__qualname__', existing)!s})."
                )
            self._items[name] = item
            return item

        return _do if obj is None else _do(obj)

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise KeyError(
                f"Unknown {self.kind} {name!r}. Valid names: {', '.join(sorted(self._items))}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def __len__(self) -> int:
        return len(self._items)
