"""Every message text the platform shows users, in one place: the API's and the activations'."""

from __future__ import annotations

NO_CAPACITY = "The system is overloaded: no invoker had room for the activation in time."
LOST_ON_INVOKER = (
    "The activation was lost: its invoker stopped answering or it outlived its deadline."
)
ORCHESTRATION_LOST = (
    "The activation did not complete in time: the API instance running it stopped answering."
)
NOT_RUN_AGAIN = "The invoker restarted after this activation had started; it was not run again."
TIMEOUT = "The action exceeded its time limits of {ms} milliseconds."
NOT_A_DICT = "The action did not return a dictionary."
# OpenWhisk's actionloop proxy (openwhisk-runtime-go openwhisk/runHandler.go),
# which serves its python, go, java, php and ruby runtimes, and its docker skeleton.
NOT_A_DICT_OR_ARRAY = "The action did not return a dictionary or array."
# What OpenWhisk's Go runtime answers when its action process dies (a panic).
COMMAND_EXITED = "command exited"
NOT_JSON = "The action did not produce a valid JSON response: {reason}"
# OpenWhisk's Messages.invalidInitResponse / invalidRunResponse: the answer's
# text after a colon, or a full stop when it was empty.
INIT_INVALID = "The action failed during initialization{text}"
RUN_INVALID = "The action did not produce a valid JSON or JSON Array response{text}"
RESULT_TOO_LARGE = (
    "The action produced a response that exceeded the allowed length: {size} > {limit} bytes."
)
# OpenWhisk's Messages.truncatedResponse(trunk, length, maxLength).
RESULT_TRUNCATED = RESULT_TOO_LARGE + " The truncated response was: {head}"
MEMORY_EXCEEDED = "The action exhausted its memory and was aborted."
CONTAINER_FAILED = "Failed to start a container for the action: {error}"
ACTION_MISSING = "The action could not be loaded: {error}"
LOGS_TRUNCATED = (
    "Logs were truncated because the total bytes size exceeds the limit of {limit} bytes."
)
# OpenWhisk's Messages.logWarningDeveloperError: the last log line of every activation
# that ended in an "action developer error" (DockerToActivationLogStore.logStream).
LOG_WARNING_DEVELOPER_ERROR = (
    "The action did not initialize or run as expected. Log data might be missing."
)
INIT_TIMEOUT = "The action exceeded its time limits of {ms} milliseconds during initialization."
ABNORMAL_INIT = "The action did not initialize and exited unexpectedly."
ABNORMAL_RUN = "The action did not produce a valid response and exited unexpectedly."
IMAGE_MISSING = (
    "The image {image} of this blackbox action is not on the invoker's host; "
    "build or load it there first."
)
IMAGE_UNUSABLE = "The image {image} of this blackbox action cannot run the action: {why}."
LIMITS_REFUSED = (
    "The activation's {limit} of {value} is outside what an action may have "
    "({low} to {high}); it was not written by the API."
)
KIND_UNSUPPORTED = "The invoker has no runtime for the kind {kind}."
TOO_MUCH_MEMORY = "The action asks for {memory} MB of memory; this invoker has {budget} MB in all."
LOGS_NOT_COLLECTED = (
    "Logs are not collected for activations that share a container "
    "(limits.concurrency > 1): their output cannot be told apart."
)
RUNTIME_MISSING = (
    "The runtime image {image} is not on the invoker's host; build it with runtimes/build.sh."
)
RUNTIME_BEING_BUILT = (
    "The runtime image {image} of the kind {kind} is being built on the invoker's host; "
    "try again in a few minutes (progress: .state/logs/runtimes-build.log)."
)
UNREADABLE_RECORD = (
    "The ledger holds a record of this activation that cannot be read "
    "({type}: {error}); the activation ends here."
)


# -- the API (OpenWhisk's texts, so clients that match on them keep working) --
# OpenWhisk's texts, so clients that match on them keep working.
RESOURCE_DOES_NOT_EXIST = "The requested resource does not exist."
NOT_AUTHORIZED = "The supplied authentication is not authorized to access this resource."
NOT_AUTHORIZED_RESOURCE = "The supplied authentication is not authorized to access '{resource}'."
# An action kind outside the namespace's allowedKinds (ErrorResponse.scala
# notAuthorizedtoActionKind; KindRestrictor.scala, Entitlement.scala).
NOT_AUTHORIZED_KIND = (
    "The supplied authentication is not authorized to access actions of kind '{kind}'."
)
AUTH_INVALID = "The supplied authentication is invalid."
AUTH_REQUIRED = "The resource requires authentication, which was not supplied with the request."
ENTITY_EXISTS = "resource already exists"
CONFLICT = "Concurrent modification to resource detected."
CONFORMANCE = "Resource by this name exists but is not in this collection."
MALFORMED_JSON = "The request content was malformed:\n{detail}"
NAME_ILLEGAL = "The name of the entity contains illegal characters."
NAME_TOO_LONG = "Name segement longer than allowed: {size} > {limit}."
NAMESPACE_ILLEGAL = "The namespace contains illegal characters."
EXEC_MISSING = "exec undefined"
# Exec.scala serdes and ErrorResponse.scala ``invalidRuntimeError``: each a deserialization
# error, so inside MALFORMED_JSON as OpenWhisk answers it.
KIND_UNKNOWN = (
    "The specified runtime '{kind}' is not supported by this platform. Valid values are: {kinds}."
)
KIND_MISSING = "'kind' must be a string defined in 'exec'"
JSON_OBJECT_EXPECTED = "JSON object expected"
MAIN_NOT_A_STRING = "if defined, 'main' be a string in 'exec' for '{kind}' actions"
COMPONENTS_MISSING = "'components' must be defined for sequence kind"
COMPONENTS_NOT_AN_ARRAY = "'components' must be an array"
IMAGE_MALFORMED = "could not parse image name"
# EntityPath.toFullyQualifiedEntityName (a sequence component names its namespace).
NAME_NOT_QUALIFIED = (
    "requirement failed: The fully qualified name of the entity must contain at least the "
    "namespace and the name of the entity."
)
TOO_BIG = "{field} larger than allowed: {size} > {limit} bytes."
ACTIVATION_ID_ILLEGAL = "The activation id is not valid."
# An id of the wrong length (ErrorResponse.scala activationIdLengthError, as ActivationId.parse
# says it: "Activation id length is 31 but must be 32.").
ACTIVATION_ID_LENGTH = "Activation id length is {length} but must be {expected}."
NO_INVOKERS = "No invokers available."
SERVICE_DOWN = "{component} is unavailable: {cause}"
METHOD_NOT_ALLOWED = "The request method is not supported for this resource."
# pekko-http's answer to a method a web action's route does not take (its default
# RejectionHandler, in OpenWhisk's error body).
WEB_METHOD_NOT_ALLOWED = (
    "HTTP method not allowed, supported methods: GET, DELETE, POST, PUT, HEAD, OPTIONS, PATCH"
)
TOO_MANY_REQUESTS = "Too many requests in the last minute (count: {count}, allowed: {allowed})."
TOO_MANY_CONCURRENT = "Too many concurrent requests in flight (count: {count}, allowed: {allowed})."
LIMIT_OUT_OF_RANGE = "The value '{value}' is not in the range of 0 to {max} for {collection}."
SKIP_OUT_OF_RANGE = "The value '{value}' is not greater than or equal to 0 for {collection}."
NOT_AN_INTEGER = "The value '{value}' is not an integer for {collection}."
BAD_EPOCH = "Parameter is not a valid value for epoch seconds: {value}"
# A limit out of its range: the ``require`` of MemoryLimit/LogLimit/TimeLimit/IntraConcurrencyLimit
# ``checkNamespaceLimit`` with ErrorResponse.scala's texts (memory and log say "size").
LIMIT_RANGE = "requirement failed: {name} {value}{unit} exceeds allowed threshold of {limit}{unit}"
LIMIT_BELOW = "requirement failed: {name} {value}{unit} below allowed threshold of {limit}{unit}"
# A limit that is no number, or not a whole one (the limits' serdes: deserialization errors).
LIMIT_MALFORMED = "{what} limit malformed"
LIMIT_NOT_WHOLE = "requirement failed: {what} limit must be whole number"
INSTANCES_OVER_NAMESPACE = (
    "Max action instance concurrency must not exceed your namespace concurrency of {limit}."
)
QUERY_MALFORMED = "The query parameter '{name}' was malformed:\n{detail}"
DOCS_WITH_COUNT = "The parameter 'docs' is not permitted with 'count'."
BAD_NAME_FILTER = "Parameter may be a 'simple' name or 'package-name/simple' name: {value}"
NOT_AN_OBJECT = "The request content must be a JSON object."
PARAMETERS_INVALID = "The activation's parameters are not acceptable: {detail}"
# Packages.
NOT_ALLOWED_ON_BINDING = "Operation not permitted on package binding."
BINDING_DOES_NOT_EXIST = "Binding references a package that does not exist."
PACKAGE_CANNOT_BECOME_BINDING = "Resource is a package and cannot be converted into a binding."
BINDING_CANNOT_REFERENCE_BINDING = "Cannot bind to another package binding."
BINDING_NOT_A_PACKAGE = "Cannot bind to a resource that is not a package."
PACKAGE_NAME_RESERVED = "Package name '{name}' is reserved."
PACKAGE_NOT_EMPTY = (
    "Package not empty (contains {count} {entities}). Set force param or delete package contents."
)
# Sequences.
SEQUENCE_TOO_LONG = "Too many actions in the sequence."
SEQUENCE_NO_COMPONENT = "No component specified for the sequence."
SEQUENCE_CYCLIC = "Sequence may not refer to itself."
SEQUENCE_COMPONENT_NOT_FOUND = "Sequence component does not exist."
SEQUENCE_COMPONENT_TIMEOUT = (
    "Timeout reached when retrieving activation {id} for sequence component."
)
SEQUENCE_FAILED = "Sequence failed."
# Triggers and rules.
FEED_INVALID = "Feed name is not valid"
RULE_NEEDS_TRIGGER_AND_ACTION = "rule requires a valid trigger and a valid action"
RULE_TRIGGER_MISSING_NAMED = "trigger {name} does not exist"
RULE_ACTION_MISSING_NAMED = "action {name} does not exist"
RULE_TRIGGER_MISSING = "Only rules with existing triggers can be activated"
RULE_INACTIVE = "Rule '{rule}' is inactive, action '{action}' was not activated."
# Web actions.
INVALID_MEDIA = "Response is not valid '{media}'."
PROPERTY_NOT_FOUND = "Response does not include requested property."
HTTP_UNKNOWN_CONTENT_TYPE = "Response did not specify a known content-type."
HTTP_CONTENT_TYPE_ERROR = "Response type in header did not match generated content type."
PARAMETERS_NOT_ALLOWED = (
    "Request defines parameters that are not allowed (e.g., reserved properties)."
)
INVALID_TIMEOUT = "Timeout must be number of milliseconds up to {max}."
RESPONSE_NOT_READY = "Response not yet ready."
INTERNAL = "There was an error processing your request."
# Pekko HTTP's default answer to an exception in a route: what OpenWhisk's
# controller answers a web action whose result is an array (WebActions.scala
# reads every result with ``asJsObject``).
SERVER_ERROR = "There was an internal server error."
# Requests the HTTP server could not read (api/server.py).
URI_TOO_LONG = "The request URI is longer than allowed: more than {limit} bytes."
HEADER_TOO_LARGE = "A request header is longer than allowed: more than {limit} bytes."
HEADERS_TOO_MANY = "The request has more headers than allowed: more than {limit}."
REQUEST_UNREADABLE = "The request could not be read as HTTP: {detail}"
# Event history, event streams and re-runs (api/ledgerview.py, api/rerun.py).
EVENT_TYPES_ILLEGAL = "Unknown event type: use accepted, scheduled, started or completed."
SINCE_ILLEGAL = (
    "'since' must be a time (ISO 8601, epoch milliseconds, or relative such as 10m) "
    "or offsets (such as 0:12,1:40, earliest or now)."
)
LAST_EVENT_ID_ILLEGAL = "Last-Event-ID must be a cursor such as 0:12,1:40."
HEARTBEAT_ILLEGAL = "'heartbeat' must be a number of seconds from {low} to {high}."
REPLAY_VERSION_ILLEGAL = "'action_version' must be 'original' or 'current'."
ORIGINAL_VERSION_GONE = (
    "The original version of the action (revision {rev}) is no longer stored; "
    "replay with action_version=current."
)
RERUN_ENTITY_GONE = "The {kind} {name} no longer exists: there is nothing to re-run."
RERUN_TRIGGER_NO_RULE = (
    "The trigger {name} has no active rule: firing it again would run nothing "
    "(enable a rule first)."
)

# Entities that are not what a PUT may hold.
BINDING_CIRCULAR = "Package binding '{name}' contains a circular reference."
LIMITS_NOT_AN_OBJECT = "'limits' must be an object."
BINDING_MALFORMED = "'binding' must be an object with 'namespace' and 'name'."
# Parameter.scala serdes: parameters and annotations alike.
PARAMETERS_MALFORMED = "parameters malformed!"
NOT_A_BOOLEAN = "'{field}' must be a boolean."
VERSION_MALFORMED = "'version' must be a semantic version like 0.0.1."
BLACKBOX_NEEDS_IMAGE = "'image' must be a string defined in 'exec' for 'blackbox' actions"
CODE_REQUIRED = "'code' must be a string defined in 'exec' for '{kind}' actions"
# spray-json's parser on an empty body (a PUT needs one), and pekko-http's answer to a
# body that is not JSON (its RejectionHandler).
JSON_EMPTY = (
    "Unexpected end-of-input at input index 0 (line 1, position 1), expected JSON Value:\n\n^\n"
)
CONTENT_TYPE_UNSUPPORTED = (
    "The request's Content-Type [{given}] is not supported. Expected:\napplication/json"
)
NOT_A_STRING = "{field} must be a string."

# Feeds (api/feeds.py, feeds/): OpenWhisk's alarms provider's texts
# (openwhisk-package-alarms action/alarmWebAction.js, provider/lib/utils.js)
# and its messaging package's (openwhisk-package-kafka action/lib/common.js,
# action/kafkaFeedWeb.js), so clients that match on them keep working.
FEED_NO_TRIGGER = "no trigger name parameter was provided"
FEED_UNSUPPORTED_EVENT = "unsupported lifecycleEvent"
FEED_AUTH_FAILED = "Trigger authentication request failed."
FEED_UNKNOWN = "'{feed}' is not a feed of this platform; its feeds are {known}."
FEED_NOT_FOUND = "could not find trigger {trigger} in the database"
FEED_PAUSED = "Paused by the trigger's owner (lifecycleEvent PAUSE)"
ALARM_ONCE_NO_DATE = "alarms once trigger feed is missing the date parameter"
ALARM_DELETE_AFTER_FIRE = "deleteAfterFire parameter must be one of [false, true, rules]."
ALARM_NO_MINUTES = "interval trigger feed is missing the minutes parameter"
ALARM_MINUTES_NOT_INTEGER = "the minutes parameter must be an integer"
ALARM_MINUTES_NOT_POSITIVE = "the minutes parameter must be an integer greater than zero"
ALARM_MINUTES_TOO_SHORT = (
    "the minutes parameter must be at least {minimum:g} "
    "(LEDGERWHISK_FEEDS_MIN_INTERVAL_S allows intervals of {seconds:g} s or more)"
)
ALARM_NO_CRON = "alarms trigger feed is missing the cron parameter"
ALARM_BAD_CRON = "cron pattern '{cron}' is not valid"
ALARM_BAD_TIMEZONE = "Invalid timezone."
ALARM_MAX_TRIGGERS_INTERVAL = "maxTriggers is not supported for the interval trigger feed"
ALARM_MAX_TRIGGERS_STOP_DATE = "maxTriggers is not allowed when the stopDate parameter is specified"
# Ledgerwhisk's own: OpenWhisk accepts these (feeds/alarms.py says what it does with them).
ALARM_MAX_TRIGGERS_NOT_NUMBER = "maxTriggers parameter '{value}' is not a number"
ALARM_CRON_NEVER_DUE = "cron pattern '{cron}' is not valid: no date matches it"
ALARM_FIRST_FIRE_AFTER_STOP = "the first scheduled trigger fire is not until after the stop date"
ALARM_DATE_INVALID = "{name} parameter '{date}' is not a valid Date"
ALARM_DATE_PAST = "{name} parameter '{date}' must be in the future"
ALARM_DATE_BEFORE_START = (
    "{name} parameter '{date}' must be greater than the startDate parameter '{start}'"
)
ALARM_START_AFTER_STOP = (
    "startDate parameter '{start}' must be less than the stopDate parameter '{stop}'"
)
ALARM_NOTHING_TO_UPDATE = "no updatable parameters were specified"
ALARM_ENDED_ONCE = "Automatically disabled after firing once"
ALARM_ENDED_LAST_CRON = "Automatically disabled after firing last scheduled cron trigger"
ALARM_ENDED_LAST_INTERVAL = "Automatically disabled after firing last scheduled interval trigger"
ALARM_ENDED_MAX_TRIGGERS = "Automatically disabled after reaching max triggers"
ALARM_ENDED_EXPIRED = "the stop date has expired"
# provider/lib/utils.js, when its provider cannot start a trigger; and Ledgerwhisk's own
# when a later fire cannot be computed (OpenWhisk's cron would throw in its timer).
FEED_ENDED_ON_CREATION = "Automatically disabled after receiving error on trigger creation: {error}"
FEED_ENDED_ON_SCHEDULING = (
    "Automatically disabled after receiving error scheduling the next fire: {error}"
)
ALARM_PAST_LAST_DATE = "its next fire ({ms} ms after the epoch) is past 9999-12-31"
FEED_ENDED_BY_STATUS = (
    "Trigger automatically disabled: Received a {status} status code when firing the trigger"
)
KAFKA_NO_TOPIC = "You must supply a 'topic' parameter."
KAFKA_NO_TRIGGER = "You must supply a 'triggerName' parameter."
KAFKA_JSON_AND_BINARY = "isJSONData and isBinaryValue cannot both be enabled."
KAFKA_NO_BROKERS = "You must supply a 'brokers' parameter."
KAFKA_BAD_BROKERS = "You must supply a 'brokers' parameter as an array of Message Hub brokers."
KAFKA_BROKER_INVALID = (
    "The 'brokers' parameter has '{broker}', which is not a Kafka broker address "
    "(host:port, port 1-65535)."
)
KAFKA_UNREACHABLE = (
    "None of the brokers {brokers} answered within {seconds:g} s ({cause}); "
    "check the 'brokers' parameter."
)
KAFKA_NOT_AUTHORIZED = "You are not authorized for this trigger."
KAFKA_NOTHING_TO_UPDATE = (
    "At least one of isJsonData, isBinaryKey, or isBinaryValue must be supplied."
)
KAFKA_UPDATE_DISABLED = "{trigger} cannot be updated because it is disabled"
FEED_FIRE_FORBIDDEN = "The feed fire's signature does not match; only the feed service fires so."

# -- operators ------------------------------------------------------------------
KAFKA_DOWN = (
    "Kafka at {bootstrap} did not answer ({cause}); start it with `make up` "
    "or check .state/logs/kafka.log"
)
FEEDS_API_DOWN = (
    "feeds: the API at {url} did not answer ({cause}); fires wait and retry. "
    "Start it with `make up` or check .state/logs/api.log"
)

# -- rules: a status POST and a rule's refused action ---------------------------------
# WhiskRule.scala ``Status.serdesRestricted``: each a deserialization error, so inside
# MALFORMED_JSON. ``Status.apply`` trims the value and requires it non-empty
# (ArgNormalizer.scala), then ``Status.factory`` requires one of the two states.
RULE_STATUS_KEY_MISSING = "key not found: status"
RULE_STATUS_UNDEFINED = "requirement failed: argument undefined"
RULE_STATUS_NOT_RECOGNIZED = "requirement failed: {status} is not a recognized rule state"
# A status that is no JSON string: Scala's MatchError on ``val JsString(s) = ...`` names the
# value (compact JSON) and its spray-json class (JsNumber, JsNull$, JsTrue$, ...).
RULE_STATUS_NOT_A_STRING = "{value} (of class spray.json.{json_class})"
