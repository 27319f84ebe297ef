"""One memo for values computed from a frozen object and kept while that very object lives."""

from __future__ import annotations

from typing import Callable, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class IdentityMemo(dict):
    """``make(key)`` kept by the key's identity, at most ``limit`` entries (then cleared and refilled):
    for objects that are frozen but too costly to hash (a Network, an Analysis). The key is held
    beside its value, so an id reused by a later object never returns the earlier one's value."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def get_or_make(self, key: K, make: Callable[[K], V]) -> V:
        kept = self.get(id(key))
        if kept is None or kept[0] is not key:
            if len(self) >= self.limit:
                self.clear()
            kept = self[id(key)] = (key, make(key))
        return kept[1]
