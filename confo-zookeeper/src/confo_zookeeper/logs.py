"""kazoo's log, without passwords.

At DEBUG, kazoo logs every request it sends, the digest ``Auth`` request too, password and all
(``Auth(auth_type=0, scheme='digest', auth='user:password')``). Confo's clients therefore log
through a logger of their own, a child of ``kazoo.client`` (so whatever level or handler is set
for kazoo applies to it), whose filter blanks the password of every ``Auth`` it is given.
"""

from __future__ import annotations

import logging

from kazoo.protocol.serialization import Auth


class _RedactAuth(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(arg, Auth) for arg in args):
            record.args = tuple(_redacted(arg) if isinstance(arg, Auth) else arg for arg in args)
        return True


def _redacted(auth: Auth) -> Auth:
    user = str(auth.auth).partition(":")[0]
    return Auth(auth.auth_type, auth.scheme, f"{user}:***")


KAZOO_LOG = logging.getLogger("kazoo.client.confo")
"""The logger Confo gives every kazoo client it makes."""
KAZOO_LOG.addFilter(_RedactAuth())
