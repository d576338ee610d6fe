"""Usernames compare one way: add ``username_key`` (NFKC, casefold), fill it for existing
users, and make it the unique constraint in place of LOWER(username)."""

import unicodedata
from collections import defaultdict

from django.db import migrations, models


def username_key(username):
    # A copy of accounts.usernames.username_key as of this migration: migrations must not
    # change meaning when the code does.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def fill_username_keys(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    by_key = defaultdict(list)
    for user in User.objects.only("pk", "username").iterator():
        by_key[username_key(user.username)].append(user.username)
    clashes = {key: names for key, names in by_key.items() if len(names) > 1}
    if clashes:
        listed = "; ".join(", ".join(repr(n) for n in names) for names in clashes.values())
        raise RuntimeError(
            "These usernames compare equal once normalised (NFKC, casefold) and cannot all "
            f"keep them: {listed}. Rename all but one of each group, then migrate again."
        )
    for user in User.objects.only("pk", "username").iterator():
        User.objects.filter(pk=user.pk).update(username_key=username_key(user.username))


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_key",
            field=models.CharField(
                default="",
                editable=False,
                help_text="The username as compared: NFKC-normalised and casefolded.",
                max_length=150,
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_username_keys, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="user",
            name="accounts_user_username_ci_unique",
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                fields=("username_key",),
                name="accounts_user_username_key_unique",
                violation_error_message="A user with that username already exists.",
            ),
        ),
    ]
