//! A capture SMTP server on loopback for the outbox scenario: it answers
//! just enough SMTP for a client to deliver, counts messages with the time
//! each arrived, and never stores a body.
