//! Two-step verification on both databases.
