//! keyward under test: builds the release binary, starts `keyward demo` on a
//! free loopback port with a fresh SQLite file or PostgreSQL database, waits
//! for `/readyz`, seeds learners, staff and classes through keyward's own
//! API, and stops it with SIGTERM.
