"""Every text ``lwsk`` prints of its own: errors, hints, confirmations.

Texts copied from ``wsk`` name their source in apache/openwhisk-cli
(``wski18n/resources/en_US.all.json`` holds them all).
"""

from __future__ import annotations

# -- configuration -------------------------------------------------------------
PROPS_UNREADABLE = "cannot read the properties file {path}: {error}"
PROPS_UNWRITABLE = "cannot write the properties file {path}: {error}"
PROPS_PATH_EMPTY = "WSK_CONFIG_FILE is set but empty"

# -- talking to the API (api/cli/client.py) --------------------------------------
CANNOT_REACH = "cannot reach the API at {host} ({reason}); is the stack up? (`make up`)"
NO_ANSWER = "the API at {host} did not answer in time ({reason})"
TLS_FAILED = (
    "the API at {host} has a certificate that cannot be verified ({reason}); "
    "give its CA, or --insecure (-i) to skip the check"
)
# An https URL whose port answers plain HTTP (a bare host:port means https, as in wsk).
NOT_TLS = (
    "the API at {host} does not speak TLS ({reason}); a plain-HTTP API needs its URL "
    "with http://, e.g. --apihost http://127.0.0.1:3233"
)
CERT_UNUSABLE = "cannot use the client certificate {cert} (key {key}): {error}"
NOT_A_STREAM = "the API at {host} did not answer with an event stream: {error}"
NO_ANSWER_BODY = "no answer"
KEY_REFUSED = (
    "{host} refused the key {uuid}:*** taken from {source}; set another with "
    "`lwsk property set --auth KEY` (an operator makes one with `lwsk admin user create NAME`) "
    "{detail}"
)
NOT_FOUND = "{kind} {name} does not exist {detail}"
EXISTS = "{kind} {name} already exists {detail}; `lwsk {kind} update {short} ...` changes it"
BINDING_EXISTS = (
    "package {name} already exists {detail}; `lwsk package bind PACKAGE {short} -o` replaces it"
)
FAILED = "cannot {verb} {kind} {name}: {message} {detail}"
WHISK_ERROR = "action {name} ended in a whisk error: {error} (activation {id})"
UNEXPECTED = "unexpected failure ({error}: {detail}); run again with -d for the details"

# -- names, files and values -------------------------------------------------------
# wsk's NewQualifiedNameError (commands/qualified_name.go), a general error (exit 1).
QUALIFIED_NAME_INVALID = (
    "'{name}' is not a valid qualified name: A valid qualified name must be specified."
)
NAME_WITHOUT_ENTITY = "'{name}' names a namespace but no entity: use /NAMESPACE/NAME"
# wsk's entityNameError (commands/shared.go), a general error (exit 1).
NAMESPACE_ONLY = (
    "An entity name, '{name}', was provided instead of a namespace. Valid namespaces are of the "
    "following format: /NAMESPACE."
)
NAMESPACE_GET_OWN = "No arguments are required: `namespace get` shows the key's own namespace"
FILE_MISSING = "File '{path}' is not a valid file or it does not exist"  # wsk ReadFile
FILE_UNREADABLE = "Unable to read the file '{path}': {error}"  # wsk ReadFile
FILE_NOT_UTF8 = "the {what} '{path}' is not UTF-8 text (byte {at})"
FILE_EXISTS = "The file '{file}' already exists"  # wsk
FILE_UNWRITABLE = "cannot write '{file}': {error}"
NOT_JSON = "{what} is not JSON: {error}"
NOT_AN_OBJECT = "{what} must be a JSON object"
FIELD_INVALID = "Invalid field filter '{field}'."  # wsk
TIME_ILLEGAL = "{flag} {value!r} is not a time: epoch ms, an ISO time, or relative such as 10m"

# -- actions (wsk's texts: apache/openwhisk-cli commands/action.go) -------------------
ARTIFACT_NEEDED = "An action name and code artifact are required."
KIND_AND_DOCKER = "Cannot specify both --kind and --docker at the same time."
WEB_INVALID = (
    "Invalid argument '{value}' for --web flag. Valid input consist of 'yes', 'true', "
    "'raw', 'false', or 'no'."
)
WEB_SECURE_WITHOUT_WEB = "The --web-secure option is only valid when the --web option is enabled."
ZIP_NEEDS_KIND = (
    "creating an action from a .zip artifact requires specifying the action kind explicitly"
)
NO_RUNTIME = "'{extension}' is not a supported action runtime; give --kind"
JAVA_NEEDS_MAIN = (
    "Java actions require --main to specify the fully-qualified name of the main class"
)
CANNOT_SAVE_IMAGE = "Cannot save Docker images"
CANNOT_SAVE_SEQUENCE = "Cannot save action sequences"
CODE_NEEDED = (
    "{flag} changes the action's code, so it needs the code too: "
    "`lwsk action update NAME FILE {flag} ...` (without FILE the action would stay as it is)"
)
CODE_NOT_UTF8 = (
    "the code file '{path}' is not UTF-8 text (byte {at}); "
    "an action of binary code is a .zip (or a .jar) with --kind"
)
SEQUENCE_EMPTY = "a sequence needs its comma-separated component actions: --sequence a,b"
COPY_NEEDS_SOURCE = "--copy needs the action to copy: `lwsk action create NAME SOURCE --copy`"
NOT_FINISHED = (
    "ok: invoked {name}, but the request has not yet finished, with id {id}\n"
    "get its result later with `lwsk activation result {id}` (or `lwsk activation get {id}`)"
)

# -- activations and the ledger -------------------------------------------------------
ACTIVATION_ID_NEEDED = "An activation ID is required."  # wsk
NO_ACTIVATIONS = "Activation list does not contain any activations."  # wsk
RERUN_NOT_FINISHED = (
    "ok: re-ran {original} as {id}, but the request has not yet finished\n"
    "get its result later with `lwsk activation result {id}`"
)
STREAM_RESUMING = "(connection lost; resuming from {cursor})"

# -- triggers, rules, packages, namespaces --------------------------------------------
FIRED_NO_RULE = "triggered {name}; it has no active rule, so nothing ran"
NOT_A_PACKAGE = "'{name}' is not a package name: give PACKAGE or /NAMESPACE/PACKAGE"
SHARED_INVALID = "Cannot use value '{value}' for shared."  # wsk util.go, exit 1
STALE_BINDINGS = "bindings whose package is gone (delete them with `lwsk package delete`):"

# -- properties and version -----------------------------------------------------------
APIHOST_INVALID = "The API host is not valid: {host} ({error})"  # wsk commands.go
API_BUILD_UNKNOWN = "Unable to obtain API build information: {error}"  # wsk property.go
PROPERTY_NONE = "give at least one property: {flags}"
RAW_NEEDS_ONE = "--output raw needs one property, e.g. `lwsk property get --auth -o raw`"
API_UNKNOWN = "API {host}: not known ({why})"

# -- admin -----------------------------------------------------------------------------
SUBJECT_NAME_ILLEGAL = "'{name}' is not a legal namespace name"
SUBJECT_MISSING = "subject {subject} does not exist; `lwsk admin user list` shows them"
# wskadmin's texts (apache/openwhisk tools/admin/wskadmin: createUserCmd, deleteUserCmd,
# getUserCmd, listUserCmd, whoisUserCmd, blockUserCmd, setLimitsCmd, getLimitsCmd,
# deleteLimitsCmd), so scripts written for it keep working.
SUBJECT_TOO_SHORT = "Subject name must be at least 5 characters"
NAMESPACE_EMPTY = "Namespace must not be empty"
UUID_INVALID = "authorization id is not a valid UUID"
KEY_TOO_SHORT = "authorization key must be at least 64 characters long"
KEY_UNREADABLE = "failed to determine authorization id and key: {detail}"
NAMESPACE_EXISTS = (
    "Namespace already exists"  # wskadmin's; ours adds how to replace the key
    "; `lwsk admin user create {subject} -ns {namespace} --revoke` replaces its key"
)
NAMESPACE_NOT_UNIQUE = "Namespace is not unique"
SUBJECT_BLOCKED = "The subject you want to edit is blocked"
SUBJECT_DELETED = "Subject deleted"
NAMESPACE_DELETED = "Namespace deleted"
NAMESPACE_NOT_OF_SUBJECT = 'Namespace "{namespace}" does not exist for "{subject}"'
NAMESPACE_NOT_FOUND = 'namespace "{namespace}" not found for "{subject}"'
NAMESPACE_NO_KEYS = 'no identities found for namespace "{namespace}"'
PICK_AT_LEAST_ONE = "pick at least 1 identity to show"
WHOIS_UNKNOWN = "Subject id is not recognized"
BLOCK_FAILED = 'Failed to {verb} "{subject}" (it does not exist)'
GUEST_KEY_RESTORED = (
    "note: the stack sets the key of {namespace} back to LEDGERWHISK_GUEST_KEY at its next "
    "start; set that to keep this one"
)
LIMITS_SET = 'Limits successfully set for "{namespace}"'
LIMITS_NONE = "No limits found, default system limits apply"
LIMITS_DELETED = "Limits deleted"
LIMITS_DELETE_MISSING = 'Failed to delete limits (no limits are set for "{namespace}")'
LIMIT_NOT_ENFORCED = "note: {field} is stored but has no effect here: {why}"
STORE_ACTIVATIONS_WHY = "every activation is a ledger event, and its record is always projected"
LIMIT_KIND_UNKNOWN = "note: {kind} is no kind of this platform (its kinds: {kinds})"
UNREADABLE_SKIPPED = "warning: {count} unreadable records skipped"
AFTER_UNTIL = "note: {count:,} events appended after --until left out"
VERIFY_WITH_UNTIL = "--verify compares with the live projection (now): drop --until"
VERIFY_ITSELF = "--verify compares {into} with itself: rebuild into another name"
REBUILD_DROPPED = "the rebuild dropped {into}: a failed run leaves nothing behind"
WRITER_BEHIND = (
    "warning: the live projection had not applied everything before the rebuild's cut "
    "within {seconds:.0f} s (the projection writer at {at}, the cut at {cut}): "
    "records it lacks show as differences; is the projection writer running?"
)
NOT_COMPARED = (
    "; {count:,} not compared: {after:,} touched by the log after the rebuild's cut, "
    "{open:,} not completed at the cut, {expired:,} whose history retention cut short "
    "(before {horizon})"
)
DROP_PROMPT = "drop {into} now? (otherwise it is kept, for inspection)"
KEPT_FOR_INSPECTION = (
    "note: {into} is kept for inspection; `lwsk admin database drop {into}` drops it"
)
DROP_REFUSED = "{name} is one of the stack's own databases: it is never dropped from here"
DROP_LIVE = (
    "{name} is the live activation projection: drop it only to rebuild it, with --force "
    "(then `lwsk admin rebuild --into {name}`)"
)
DATABASE_MISSING = "database {name} does not exist"
