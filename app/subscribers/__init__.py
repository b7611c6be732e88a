"""Subscribers and lists: double opt-in, unsubscribe and resubscribe, suppression, CSV import and
export, confirmation mail within limits."""
