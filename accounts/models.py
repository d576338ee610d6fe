"""accounts tables: the user, with the order statistics kept from order events."""

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    pass
