"""Model fields that encrypt personal data transparently (see refuge.core.crypto).

A model with encrypted fields has a UUID primary key (set before the first save, so it can be
bound into the ciphertext) and a ``data_key`` foreign key to the person's DataKey. Values are
decrypted only when read, so listing people decrypts only what a page shows.
"""

from __future__ import annotations

from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.utils.translation import gettext_lazy as _

from refuge.core import crypto


class Erased(str):
    """What an encrypted field reads as once the person's data key has been shredded."""

    __slots__ = ()

    def __new__(cls) -> Erased:
        return super().__new__(cls, str(_("[erased]")))


class Ciphertext:
    """A stored token, not yet decrypted. Never str(), so it cannot be rendered by mistake."""

    __slots__ = ("token", "plain")

    def __init__(self, token: str, plain: str | None = None) -> None:
        self.token = token
        self.plain = plain

    def __repr__(self) -> str:
        return "<Ciphertext>"

    def __str__(self) -> str:
        return "<Ciphertext>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ciphertext) and other.token == self.token

    def __hash__(self) -> int:
        return hash(self.token)


def _aad(instance: models.Model, field: models.Field) -> bytes:
    bind_to = getattr(field, "bind_to", None)
    ident = getattr(instance, bind_to) if bind_to else instance.pk
    if ident is None:
        raise crypto.CryptoError(
            f"{instance._meta.label} needs its primary key before an encrypted field is used."
        )
    return field_aad(instance._meta.label_lower, field.name, ident)


def field_aad(label_lower: str, field_name: str, ident: object) -> bytes:
    """The associated data binding a value to its model, field and row (also for migrations)."""
    return f"{label_lower}.{field_name}:{ident}".encode()


class _EncryptedAttribute(DeferredAttribute):
    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if not isinstance(value, Ciphertext):
            return value
        if value.plain is None:
            try:
                value.plain = crypto.decrypt_value(value.token, _aad(instance, self.field))
            except crypto.DataKeyDestroyed:
                value.plain = Erased()
        return value.plain

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    """Text encrypted with the row's ``data_key``. Not searchable: pair it with a blind index."""

    descriptor_class = _EncryptedAttribute

    def __init__(self, *args, bind_to: str | None = None, **kwargs) -> None:
        # ``bind_to`` names a unique attribute known before the first save (e.g. a one-to-one
        # ``referral_id``) for models whose primary key the database assigns.
        self.bind_to = bind_to
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.bind_to:
            kwargs["bind_to"] = self.bind_to
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return Ciphertext(value)

    def pre_save(self, model_instance, add):
        value = model_instance.__dict__.get(self.attname)
        if value is None or value == "":
            return value
        if isinstance(value, Ciphertext):
            return value.token
        if isinstance(value, Erased):
            raise crypto.DataKeyDestroyed("An erased value cannot be saved again.")
        key_id = model_instance.data_key_id
        if key_id is None:
            raise crypto.CryptoError(
                f"{model_instance._meta.label} has no data key to encrypt with."
            )
        plain = str(value)
        token = crypto.encrypt_value(key_id, plain, _aad(model_instance, self))
        model_instance.__dict__[self.attname] = Ciphertext(token, plain)
        return token

    def get_prep_value(self, value):
        if isinstance(value, Ciphertext):
            return value.token
        return super().get_prep_value(value)

    def value_to_string(self, obj):
        # Serialisers (dumpdata) get the ciphertext, never the clear value.
        raw = obj.__dict__.get(self.attname)
        return raw.token if isinstance(raw, Ciphertext) else raw
