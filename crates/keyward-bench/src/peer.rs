//! The peer a school might deploy instead: Django's auth with django-allauth
//! under gunicorn (2 sync workers), SQLite, the same Argon2id parameters,
//! installed from PyPI (pinned, `bench/peer/requirements.txt`) into a
//! throwaway virtual environment under `target/bench-tools`.
