"""Notification delivery: the relay that drains the transactional outbox (`notification_outbox`)
and the senders that carry each notification to its recipient."""
