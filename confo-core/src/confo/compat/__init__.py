"""The original Confo's surface, kept working exactly, on top of a core that has none of it.

The seeds' import paths are thin modules at the package root (``confo.Confo``,
``confo.Exceptions``, ``confo.Backends``); what they give lives here:

- :mod:`confo.compat.shared`: ``Confo()`` as the process-wide shared manager, and ``persist``
  taking the seeds' ``False`` for "not given".
- :mod:`confo.compat.legacy`: the original's backend classes, used without the manager
  (``FileBackend().load_credentials(...)``).

The seeds' exception names (``BackendsActivationException`` ...) are the core's own error
classes, in :mod:`confo.errors`: code catching them must catch what the core raises.
"""
