"""What a watch delivers: one change of one configuration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from confo.aliases import JSONObject, Revision


@dataclass(frozen=True)
class WatchEvent:
    """One change of one configuration, as the store holds it now.

    ``kind`` is ``"put"`` (``value`` is the configuration) or ``"delete"`` (``value`` is None);
    ``revision`` is the store's revision of it (None for a delete). ``old`` is the value this
    watch knew before: the last one it delivered, or the one the store held when the watch
    started (None for a configuration it had not seen).
    """

    namespace: str
    config: str
    kind: Literal["put", "delete"]
    value: JSONObject | None
    revision: Revision | None
    old: JSONObject | None = None

    def as_dict(self) -> dict[str, Any]:
        """The event as plain JSON types, without ``old`` (``confo watch`` prints this)."""
        return {
            "namespace": self.namespace,
            "config": self.config,
            "kind": self.kind,
            "value": self.value,
            "revision": self.revision,
        }
