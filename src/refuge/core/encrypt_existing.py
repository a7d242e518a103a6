"""Data-migration helper: encrypt a column that used to hold clear text, row by row.

Used by the migrations that turned personal free-text columns into EncryptedTextField
(issue 14, M3). It works on historical models only, so it keeps working as models change.
Rows whose data key was shredded lose the clear value (she is erased; her words must go too).
Idempotent: a value that is already a token is left alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from refuge.core import crypto
from refuge.core.fields import Ciphertext, field_aad


def _raw(value) -> str:
    if isinstance(value, Ciphertext):
        return value.token
    return value or ""


def encrypt_columns(
    apps,
    schema_editor,
    *,
    model: str,
    fields: Iterable[str],
    key_attr: str = "data_key_id",
    bind_attr: str = "pk",
) -> int:
    """Encrypt ``fields`` of ``model`` ("app.Model") in place; returns the number of values."""
    app_label, model_name = model.split(".")
    Model = apps.get_model(app_label, model_name)
    DataKey = apps.get_model("core", "DataKey")
    db = schema_editor.connection.alias
    fields = list(fields)
    label = f"{app_label}.{model_name.lower()}"
    keys: dict = {}
    done = 0
    extra = [bind_attr] if bind_attr != "pk" else []
    rows = Model.objects.using(db).values_list("pk", key_attr, *extra, *fields)
    for pk, key_id, *rest in rows.iterator():
        ident, values = (rest[0], rest[1:]) if extra else (pk, rest)
        plain = {f: _raw(v) for f, v in zip(fields, values, strict=True)}
        todo = {f: v for f, v in plain.items() if v and not v.startswith(crypto.TOKEN_PREFIX)}
        if not todo:
            continue
        if key_id not in keys:
            row = DataKey.objects.using(db).filter(pk=key_id).first()
            if row is None or row.wrapped is None or row.destroyed_at is not None:
                keys[key_id] = None
            else:
                keys[key_id] = crypto.unwrap_data_key(row.master_key_id, bytes(row.wrapped))
        raw = keys[key_id]
        update = {
            f: ""
            if raw is None
            else crypto.encrypt_with_key(key_id, raw, v, field_aad(label, f, ident))
            for f, v in todo.items()
        }
        Model.objects.using(db).filter(pk=pk).update(**update)
        done += len(update)
    return done


def decrypt_columns(
    apps,
    schema_editor,
    *,
    model: str,
    fields: Iterable[str],
    bind_attr: str = "pk",
) -> None:
    """The reverse: write clear text back (for a rollback); erased values become empty."""
    app_label, model_name = model.split(".")
    Model = apps.get_model(app_label, model_name)
    db = schema_editor.connection.alias
    fields = list(fields)
    label = f"{app_label}.{model_name.lower()}"
    extra = [bind_attr] if bind_attr != "pk" else []
    for pk, *rest in Model.objects.using(db).values_list("pk", *extra, *fields):
        ident, values = (rest[0], rest[1:]) if extra else (pk, rest)
        update = {}
        for f, v in zip(fields, values, strict=True):
            token = _raw(v)
            if not token.startswith(crypto.TOKEN_PREFIX):
                continue
            try:
                update[f] = crypto.decrypt_value(token, field_aad(label, f, ident))
            except crypto.DataKeyDestroyed:
                update[f] = ""
        if update:
            Model.objects.using(db).filter(pk=pk).update(**update)
