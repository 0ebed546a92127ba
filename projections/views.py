"""CouchDB design documents: the views the API lists activations and entities with."""

from __future__ import annotations

ACTIVATIONS_DDOC = "activations"
# Completed activations by [namespace, start] and by [namespace, name, start].
ACTIVATIONS_VIEWS: dict[str, dict[str, str]] = {
    "byNamespace": {
        "map": (
            "function (doc) { if (doc.ledger && doc.ledger.state === 'activation.completed')"
            " { emit([doc.namespace, doc.start], null); } }"
        )
    },
    "byName": {
        "map": (
            "function (doc) { if (doc.ledger && doc.ledger.state === 'activation.completed')"
            " { emit([doc.namespace, doc.name, doc.start], null); } }"
        )
    },
}

WHISKS_DDOC = "whisks"
# Entities by [namespace, entityType, updated]; subjects by [uuid, key].
WHISKS_VIEWS: dict[str, dict[str, str]] = {
    "byNamespace": {
        "map": (
            "function (doc) { if (doc.entityType) {"
            " emit([doc.namespace, doc.entityType, doc.updated], null); } }"
        )
    },
    "byPackage": {
        "map": (
            "function (doc) { if (doc.entityType === 'action' && doc.package) {"
            " emit([doc.namespace, doc.package, doc.name], null); } }"
        )
    },
}

SUBJECTS_DDOC = "subjects"
SUBJECTS_VIEWS: dict[str, dict[str, str]] = {
    "identities": {
        "map": (
            "function (doc) { if (doc.namespaces && !doc.blocked) {"
            " doc.namespaces.forEach(function (ns) {"
            " emit([ns.uuid, ns.key], {namespace: ns.name, subject: doc.subject}); }); } }"
        )
    },
}
