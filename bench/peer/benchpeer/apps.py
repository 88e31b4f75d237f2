"""The bench peer's own app: only the seed_bench management command."""
from django.apps import AppConfig


class BenchPeerConfig(AppConfig):
    name = "benchpeer"
