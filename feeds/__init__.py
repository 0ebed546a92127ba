"""Feeds: OpenWhisk's feed protocol, its alarms and Kafka feeds, and the service that fires them.

The API's ``/api/v1/feeds`` (``api/feeds.py``) performs each lifecycle event
and stores registrations in CouchDB; ``feeds/service.py`` follows them and
fires the triggers through the platform's REST API as their owners.
"""


class FeedError(Exception):
    """Base of the feed package's errors."""
