"""What a watch delivers: one change of one configuration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from confo.aliases import JSONObject, Revision

if TYPE_CHECKING:
    from confo.history import ChangeRecord

Finder = Callable[[str, "JSONObject | None"], "ChangeRecord | None"]


@dataclass(frozen=True)
class WatchEvent:
    """One change of one configuration, as the store holds it now.

    ``kind`` is ``"put"`` (``value`` is the configuration), ``"delete"`` (``value`` is
    None) or ``"rejected"``: the store holds ``value``, which fails the configuration's
    schema, and the live view keeps its last valid value (``old``); ``error`` says why (None
    for the other kinds). ``revision`` is the store's revision of it (None for a delete).
    ``old`` is the value this watch knew before: the last one it delivered, or the one the
    store held when the watch started (None for a configuration it had not seen). ``record``
    is the change record behind it (who changed it and why), where the store keeps history;
    None otherwise, or for a change made by another tool. It is read from the history on
    first use, once per batch of events a read delivered: a callback that never asks pays
    nothing.
    """

    namespace: str
    config: str
    kind: Literal["put", "delete", "rejected"]
    value: JSONObject | None
    revision: Revision | None
    old: JSONObject | None = None
    error: str | None = None
    _find: Finder | None = field(default=None, repr=False, compare=False)

    @property
    def record(self) -> ChangeRecord | None:
        return None if self._find is None else self._find(self.config, self.value)

    def as_dict(self) -> dict[str, Any]:
        """The event as plain JSON types, without ``old`` (``confo watch`` prints this);
        ``error`` only for a rejection."""
        plain = {
            "namespace": self.namespace,
            "config": self.config,
            "kind": self.kind,
            "value": self.value,
            "revision": self.revision,
        }
        if self.error is not None:
            plain["error"] = self.error
        return plain
