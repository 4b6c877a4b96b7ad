"""The records exchanged between the manager and backend plugins.

They are dataclasses rather than bare dicts so that fields can be added without breaking a
backend: the roadmap adds per-configuration store revisions to :class:`Snapshot` (for conflict
detection) and the revisions a write expects to :class:`Changes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from confo.values import JSONObject


@dataclass
class Snapshot:
    """What a namespace holds in the store at one moment.

    ``configs`` maps each configuration name to its JSON object. The manager takes ownership of
    the dicts: a backend must not keep references to them.
    """

    configs: dict[str, JSONObject] = field(default_factory=dict)


@dataclass
class Changes:
    """What one ``persist`` writes to one namespace.

    ``put`` maps configuration names to their whole new JSON object; ``delete`` names the
    configurations to remove (a name missing from the store is not an error). A name is never in
    both.
    """

    put: dict[str, JSONObject] = field(default_factory=dict)
    delete: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.put or self.delete)
