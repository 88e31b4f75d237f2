"""Django's Argon2id hasher with keyward's parameters, read from the environment.

The harness passes keyward's `hashing.*` settings so both columns pay for the
same hash: BENCH_PEER_ARGON2_MEMORY_KIB, BENCH_PEER_ARGON2_TIME_COST and
BENCH_PEER_ARGON2_PARALLELISM.
"""
import os

from django.contrib.auth.hashers import Argon2PasswordHasher


def _env_int(name, default):
    return int(os.environ.get(name, default))


class BenchArgon2PasswordHasher(Argon2PasswordHasher):
    # The algorithm name stays "argon2", so the stored hashes are Django's usual
    # `argon2$argon2id$v=19$m=…,t=…,p=…$…` and no rehash happens at sign-in.
    memory_cost = _env_int("BENCH_PEER_ARGON2_MEMORY_KIB", 19456)
    time_cost = _env_int("BENCH_PEER_ARGON2_TIME_COST", 2)
    parallelism = _env_int("BENCH_PEER_ARGON2_PARALLELISM", 1)
