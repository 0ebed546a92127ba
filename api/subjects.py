"""Subject records and their keys, changed by wskadmin's rules (pure; the CLI and setup write them).

A subject record in the subjects database::

    {"_id": "alice", "subject": "alice",
     "namespaces": [{"name": "alice", "uuid": "<uuid>", "key": "<64 characters>"}, ...],
     "blocked": true,          # optional: its keys are refused
     "admin": true,            # optional, ours: may read /api/v1/admin/...
     "limits": {...}}          # optional, the older place of the namespace's limits

Every change keeps the fields it does not name: a key is added for a new
namespace, replaced only when asked (``revoke``), and never for a blocked
subject (apache/openwhisk ``tools/admin/wskadmin`` ``createUserCmd``,
``deleteUserCmd``; texts, in ``api/cli/messages.py``, and exit codes are wskadmin's).
"""

from __future__ import annotations

import secrets
import uuid as uuidlib
from collections.abc import Iterable
from typing import Any

from api.cli.messages import (
    KEY_TOO_SHORT,
    KEY_UNREADABLE,
    NAMESPACE_EMPTY,
    NAMESPACE_EXISTS,
    NAMESPACE_NOT_FOUND,
    NAMESPACE_NOT_OF_SUBJECT,
    NAMESPACE_NOT_UNIQUE,
    SUBJECT_BLOCKED,
    SUBJECT_NAME_ILLEGAL,
    SUBJECT_TOO_SHORT,
    UUID_INVALID,
)
from api.names import is_name

JsonDict = dict[str, Any]

SUBJECT_MIN_CHARS = 5
KEY_MIN_CHARS = 64
KEY_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
# wskadmin's exit codes: 2 for what it refuses to read, 1 for what it refuses to do.
EXIT_REFUSED = 1
EXIT_INVALID = 2


class SubjectRefused(Exception):
    """A change wskadmin refuses: the text it prints and the code it exits with."""

    def __init__(self, message: str, exit_code: int = EXIT_REFUSED):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def new_key() -> str:
    """A fresh ``uuid:key`` pair in OpenWhisk's format (a uuid4, a 64-character key)."""
    return f"{uuidlib.uuid4()}:{''.join(secrets.choice(KEY_ALPHABET) for _ in range(64))}"


def check_subject(subject: str) -> str:
    """``subject`` stripped; ``SubjectRefused`` (exit 2) for one shorter than 5 characters
    (wskadmin) or not a legal namespace name (ours: the subject names its namespace)."""
    name = subject.strip()
    if len(name) < SUBJECT_MIN_CHARS:
        raise SubjectRefused(SUBJECT_TOO_SHORT, EXIT_INVALID)
    if not is_name(name):
        raise SubjectRefused(SUBJECT_NAME_ILLEGAL.format(name=name), EXIT_INVALID)
    return name


def check_namespace(namespace: str | None, subject: str) -> str:
    """The namespace a ``-ns`` option names (the subject's own without one); ``SubjectRefused``
    (exit 2) for an empty or illegal name."""
    if namespace is None:
        return subject
    name = namespace.strip()
    if not name:
        raise SubjectRefused(NAMESPACE_EMPTY, EXIT_INVALID)
    if not is_name(name):
        raise SubjectRefused(SUBJECT_NAME_ILLEGAL.format(name=name), EXIT_INVALID)
    return name


def check_key(auth: str) -> tuple[str, str]:
    """``(uuid, key)`` from a ``uuid:key`` an operator gives, the uuid in its canonical form.

    Raises ``SubjectRefused`` (exit 2, wskadmin's texts) when there is no ``:``, the
    uuid is not a UUID, or the key is shorter than 64 characters.
    """
    uuid_text, sep, key = auth.partition(":")
    try:
        uid = str(uuidlib.UUID(uuid_text))
    except ValueError:
        raise SubjectRefused(UUID_INVALID, EXIT_INVALID) from None
    if not sep:
        raise SubjectRefused(KEY_UNREADABLE.format(detail="no ':' in it"), EXIT_INVALID)
    if len(key) < KEY_MIN_CHARS:
        raise SubjectRefused(KEY_TOO_SHORT, EXIT_INVALID)
    return uid, key


def with_key(
    doc: JsonDict | None,
    subject: str,
    namespace: str,
    auth: tuple[str, str],
    revoke: bool = False,
) -> JsonDict:
    """The subject record once ``namespace`` has the key ``auth`` (``(uuid, key)``).

    No record: a new one. A namespace the subject lacks: added to it. The
    namespace it has: its key replaced with ``revoke``, else ``SubjectRefused``
    ("Namespace already exists"). A blocked subject: ``SubjectRefused`` ("The
    subject you want to edit is blocked"), even with ``revoke``. Every other
    field is kept. (wskadmin ``createUserCmd``.)
    """
    entry = {"name": namespace, "uuid": auth[0], "key": auth[1]}
    if doc is None:
        return {"_id": subject, "subject": subject, "namespaces": [entry]}
    if doc.get("blocked") is True:
        raise SubjectRefused(SUBJECT_BLOCKED)
    namespaces = list(doc.get("namespaces") or [])
    same = [i for i, ns in enumerate(namespaces) if ns.get("name") == namespace]
    if not same:
        namespaces.append(entry)
    elif not revoke:
        raise SubjectRefused(NAMESPACE_EXISTS.format(subject=subject, namespace=namespace))
    elif len(same) > 1:
        raise SubjectRefused(NAMESPACE_NOT_UNIQUE)
    else:
        namespaces[same[0]] = {**namespaces[same[0]], **entry}
    return {**doc, "namespaces": namespaces}


def without_namespace(doc: JsonDict, namespace: str) -> JsonDict:
    """The subject record without its key for ``namespace`` (wskadmin ``user delete -ns``);
    ``SubjectRefused`` when it has none."""
    namespaces = [ns for ns in doc.get("namespaces") or [] if ns.get("name") != namespace]
    if len(namespaces) == len(doc.get("namespaces") or []):
        raise SubjectRefused(
            NAMESPACE_NOT_OF_SUBJECT.format(namespace=namespace, subject=doc["_id"])
        )
    return {**doc, "namespaces": namespaces}


def key_of(doc: JsonDict, namespace: str) -> str:
    """The subject's ``uuid:key`` for ``namespace`` (wskadmin ``user get``);
    ``SubjectRefused`` when it has none."""
    found = [ns for ns in doc.get("namespaces") or [] if ns.get("name") == namespace]
    if len(found) != 1:
        raise SubjectRefused(NAMESPACE_NOT_FOUND.format(namespace=namespace, subject=doc["_id"]))
    return f"{found[0]['uuid']}:{found[0]['key']}"


def identities(docs: Iterable[JsonDict], namespace: str | None = None) -> list[JsonDict]:
    """One entry per key of each subject record, of ``namespace`` only when given:
    ``{"subject", "namespace", "auth": "uuid:key", "blocked": bool, "admin": bool}``.
    Documents that are no subject record (a namespace's limits) have no keys."""
    rows = []
    for doc in docs:
        for ns in doc.get("namespaces") or []:
            if namespace is None or ns.get("name") == namespace:
                rows.append(
                    {
                        "subject": doc.get("subject", doc["_id"]),
                        "namespace": ns.get("name"),
                        "auth": f"{ns.get('uuid')}:{ns.get('key')}",
                        "blocked": doc.get("blocked") is True,
                        "admin": doc.get("admin") is True,
                    }
                )
    return rows


def whois(docs: Iterable[JsonDict], auth: str) -> JsonDict | None:
    """The entry of ``identities`` the key ``auth`` gives, unless its subject is blocked
    (as OpenWhisk's identities view, which wskadmin ``user whois`` reads); None."""
    for row in identities(docs):
        if row["auth"] == auth and not row["blocked"]:
            return row
    return None
