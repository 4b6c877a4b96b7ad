"""The pluggy markers for the ``confo`` project.

Backend plugins mark their methods with :data:`hookimpl` (also importable as ``confo.hookimpl``).
"""

import pluggy

PROJECT_NAME = "confo"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
