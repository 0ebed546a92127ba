"""The controller: which invoker runs an activation, and that every activation ends."""
