//! Tests of browsing the audit log.
