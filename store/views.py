"""CouchDB design documents: the views the API lists activations and entities with."""

from __future__ import annotations

ACTIVATIONS_DDOC = "activations"
# Completed activations by [namespace, start] and by [namespace, name filter, start].
# The name filter is OpenWhisk's: ``action``, or ``pkg/action`` for an action in a
# package (read from the ``path`` annotation, or the ``binding`` one when the
# action ran through a binding). Both reduce to a count.
ACTIVATIONS_VIEWS: dict[str, dict[str, str]] = {
    "byNamespace": {
        "map": (
            "function (doc) { if (doc.ledger && doc.ledger.state === 'activation.completed')"
            " { emit([doc.namespace, doc.start], null); } }"
        ),
        "reduce": "_count",
    },
    "byName": {
        "map": (
            "function (doc) {"
            " if (!doc.ledger || doc.ledger.state !== 'activation.completed') { return; }"
            " var path, binding, filter = doc.name;"
            " (doc.annotations || []).forEach(function (a) {"
            "  if (a.key === 'path') { path = a.value; }"
            "  if (a.key === 'binding') { binding = a.value; } });"
            " if (typeof binding === 'string') { filter = binding.split('/')[1] + '/' + doc.name; }"
            " else if (typeof path === 'string' && path.split('/').length === 3) {"
            "  filter = path.split('/')[1] + '/' + doc.name; }"
            " emit([doc.namespace, filter, doc.start], null); }"
        ),
        "reduce": "_count",
    },
}

WHISKS_DDOC = "whisks"
# Entities by [namespace, entityType, updated]: an action in a package is listed
# under its package path ("ns/pkg") and under its namespace, as OpenWhisk lists
# every action of a namespace. Public packages (not bindings) by [namespace, updated].
WHISKS_VIEWS: dict[str, dict[str, str]] = {
    "byNamespace": {
        "map": (
            "function (doc) { if (doc.entityType) {"
            " emit([doc.namespace, doc.entityType, doc.updated], null);"
            " var root = doc.namespace.split('/')[0];"
            " if (root !== doc.namespace) { emit([root, doc.entityType, doc.updated], null); }"
            " } }"
        ),
        "reduce": "_count",
    },
    "publicPackages": {
        "map": (
            "function (doc) { if (doc.entityType === 'package' && doc.publish"
            " && !(doc.binding && doc.binding.name)) {"
            " emit([doc.namespace, doc.updated], null); } }"
        ),
        "reduce": "_count",
    },
}

SUBJECTS_DDOC = "subjects"
SUBJECTS_VIEWS: dict[str, dict[str, str]] = {
    "identities": {
        "map": (
            "function (doc) { if (doc.namespaces && !doc.blocked) {"
            " doc.namespaces.forEach(function (ns) {"
            " emit([ns.uuid, ns.key], {namespace: ns.name, subject: doc.subject,"
            " limits: doc.limits || {}, admin: doc.admin === true}); }); } }"
        )
    },
    # Subjects by namespace name: who owns a namespace (web actions run as the owner).
    "byNamespace": {
        "map": (
            "function (doc) { if (doc.namespaces && !doc.blocked) {"
            " doc.namespaces.forEach(function (ns) {"
            " emit(ns.name, {namespace: ns.name, subject: doc.subject, uuid: ns.uuid,"
            " key: ns.key, limits: doc.limits || {}}); }); } }"
        )
    },
}
