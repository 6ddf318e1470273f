"""Notifications: an in-app inbox of assignment reminders, optionally also sent as email through an outbox."""
