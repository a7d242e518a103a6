"""A confidential facility's street address, postal code and exact point, sealed at rest.

Sealed with a network-level key derived from the master key (refuge.core.crypto.seal_network)
when the facility's ``address_visibility`` is confidential; public and professionals-only
facilities stay clear (their address is published anyway). Values are unsealed as they come
out of the database, so every reader (``facility.address``, ``values_list("latitude", ...)``,
placement's distances) sees the same types as before and no caller changes. What a database
dump or backup holds for a confidential facility is a token, never the street or the point;
the region and the town stay clear for coarse use. (Django's ``dumpdata`` writes the clear
values, as it writes any str or float as read; backups use the native formats, which hold
what the columns hold.)

Trade-off (docs/decisions.md): the token is bound to its column, not its row (the database
hands ``from_db_value`` no row), so someone who can write the database could swap two
facilities' sealed addresses; they could as well change anything else there.
"""

from __future__ import annotations

from django import forms
from django.db import models

from refuge.core import crypto

PURPOSE = "facility-location"
CONFIDENTIAL = "confidential"  # AddressVisibility.CONFIDENTIAL (models imports us)


def _aad(name: str) -> bytes:
    return f"directory.facility.{name}".encode()


def _sealed_for(instance: models.Model) -> bool:
    return getattr(instance, "address_visibility", None) == CONFIDENTIAL


class _Sealed:
    """Shared by the text and the number field: seal on save, unseal on load."""

    def _open(self, value):
        if crypto.is_sealed(value):
            value = crypto.unseal_network(value, purpose=PURPOSE, aad=_aad(self.name))
        return self.from_clear(value)

    def from_db_value(self, value, expression, connection):
        return self._open(value)

    def pre_save(self, model_instance, add):
        # A sealed value given back (loaddata of a dump) is opened first, never sealed twice.
        value = self._open(getattr(model_instance, self.attname))
        if value is None or value == "":
            return value
        clear = self.to_clear(value)
        if _sealed_for(model_instance):
            return crypto.seal_network(clear, purpose=PURPOSE, aad=_aad(self.name))
        return clear


class SealedTextField(_Sealed, models.CharField):
    """Text (the street address, the postal code). A CharField to forms, validation and
    expressions (``max_length`` applies to the clear value); a text column in the database,
    since a sealed token is longer than the value."""

    def get_internal_type(self) -> str:
        return "TextField"

    def from_clear(self, value):
        return value

    def to_clear(self, value) -> str:
        return str(value)


class SealedFloatField(_Sealed, models.TextField):
    """A coordinate, stored as text so that it can hold a sealed token; reads as a float."""

    def from_clear(self, value):
        return None if value in (None, "") else float(value)

    def to_clear(self, value) -> str:
        return repr(float(value))

    def to_python(self, value):
        if value in (None, ""):
            return None
        return self._open(value) if isinstance(value, str) else float(value)

    def get_prep_value(self, value):
        # Lookups compare what is stored; only isnull is meaningful on a sealed column.
        if value is None or isinstance(value, str):
            return value
        return repr(float(value))

    def formfield(self, **kwargs):
        defaults = {"form_class": forms.FloatField, "max_length": None}
        defaults.update(kwargs)
        defaults.pop("max_length", None)
        return models.Field.formfield(self, **defaults)
