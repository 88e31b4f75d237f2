"""seed_bench: learners (username + password, no email) and staff (with a
verified, primary allauth EmailAddress), written as JSON lines
{"username", "password", "email"} to --out.

One Argon2 hash per distinct password (one for learners, one for staff),
reused for every row, so seeding thousands takes about two hashes.
"""
import json

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction

LEARNER_PASSWORD = "learner-bench-password-7"
STAFF_PASSWORD = "staff-bench-password-9"
EMAIL_DOMAIN = "school.example.org"


class Command(BaseCommand):
    help = "Creates bench learners and staff and writes their accounts as JSON lines."

    def add_arguments(self, parser):
        parser.add_argument("--learners", type=int, required=True)
        parser.add_argument("--staff", type=int, required=True)
        parser.add_argument("--out", required=True, help="the JSON lines file to write")

    def handle(self, *args, learners, staff, out, **options):
        accounts = [
            {"username": f"learner{i:05}", "password": LEARNER_PASSWORD, "email": None}
            for i in range(1, learners + 1)
        ] + [
            {
                "username": f"staff{i:04}",
                "password": STAFF_PASSWORD,
                "email": f"staff{i:04}@{EMAIL_DOMAIN}",
            }
            for i in range(1, staff + 1)
        ]
        hashes = {p: make_password(p) for p in {LEARNER_PASSWORD, STAFF_PASSWORD}}
        User = get_user_model()
        with transaction.atomic():
            users = User.objects.bulk_create(
                [
                    User(
                        username=a["username"],
                        email=a["email"] or "",
                        password=hashes[a["password"]],
                    )
                    for a in accounts
                ],
                batch_size=1000,
            )
            EmailAddress.objects.bulk_create(
                [
                    EmailAddress(user=u, email=a["email"], verified=True, primary=True)
                    for u, a in zip(users, accounts)
                    if a["email"]
                ],
                batch_size=1000,
            )
        with open(out, "w", encoding="utf-8") as file:
            for a in accounts:
                file.write(json.dumps(a) + "\n")
        self.stdout.write(f"seeded {learners} learners and {staff} staff into {out}")
