"""accounts API shapes: input serializers validate the request, output ones render results."""

from typing import Any

from rest_framework import serializers
from rest_framework.fields import empty

from accounts.services.users import PASSWORD_MAX_LENGTH


class TextField(serializers.CharField):
    """A CharField that takes only a string: DRF's turns a JSON number into one (`0` -> "0")."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class RegisterInputSerializer(serializers.Serializer):
    username = TextField(max_length=150)
    email = serializers.EmailField(max_length=254)
    password = TextField(
        max_length=PASSWORD_MAX_LENGTH,
        write_only=True,
        trim_whitespace=False,
        style={"input_type": "password"},
    )


class UserOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True)
    first_name = serializers.CharField(read_only=True)
    last_name = serializers.CharField(read_only=True)
    date_joined = serializers.DateTimeField(read_only=True)


class LoginInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=PASSWORD_MAX_LENGTH,
        write_only=True,
        trim_whitespace=False,
        style={"input_type": "password"},
    )


class LoginOutputSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True)
    refresh = serializers.CharField(read_only=True)
    user = UserOutputSerializer(read_only=True)


class ProfileOutputSerializer(UserOutputSerializer):
    profile_version = serializers.IntegerField(read_only=True)
    orders_count = serializers.IntegerField(
        read_only=True, help_text="Orders placed and not cancelled."
    )
    total_spent = serializers.DictField(
        child=serializers.DecimalField(max_digits=None, decimal_places=2),
        read_only=True,
        help_text='Totals of the orders not cancelled, per currency: {"EUR": "59.80"}.',
    )


class SentEmailField(serializers.EmailField):
    """An optional email that, once sent, must be valid: blank is refused in a form as in JSON.

    DRF reads a blank optional field of a form (multipart or urlencoded) as not sent, which
    would let ``email=`` through as a no-op although the schema says it may not be blank.
    """

    def get_value(self, dictionary: Any) -> Any:
        if self.field_name in dictionary:
            return dictionary[self.field_name]
        return empty


class ProfileUpdateInputSerializer(serializers.Serializer):
    email = SentEmailField(max_length=254, required=False)
    first_name = TextField(max_length=150, required=False, allow_blank=True)
    last_name = TextField(max_length=150, required=False, allow_blank=True)


class DetailOutputSerializer(serializers.Serializer):
    detail = serializers.CharField(read_only=True)


class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096, help_text="A refresh token from login.")


class TokenPairOutputSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True)
    refresh = serializers.CharField(
        read_only=True, help_text="Replaces the refresh token sent, which no longer works."
    )


class TokenErrorOutputSerializer(serializers.Serializer):
    detail = serializers.CharField(read_only=True)
    code = serializers.CharField(read_only=True, required=False)
