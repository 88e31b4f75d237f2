//! outbox_drain: thousands of queued emails delivered to a capture SMTP
//! server on loopback, in emails per second.
