//! Request body limits above the server's default (`server.max_body_bytes`),
//! for the routes that need more and are served by both faces.

use keyward_core::classroom::roster::MAX_ROSTER_BYTES;

/// The body limit of the roster routes (API and page): the largest roster
/// plus room for a form's envelope, so that a file just over the roster limit
/// gets the core's readable `file_too_large` rather than a bare 413.
pub const ROSTER_BODY_LIMIT_BYTES: usize = MAX_ROSTER_BYTES + 1024 * 1024;
