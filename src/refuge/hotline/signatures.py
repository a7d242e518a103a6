"""Webhook signatures of the PBXs, checked in constant time. The PBX endpoints take no API key:
the signature is the authentication, so a wrong or missing one is a 403 and nothing is read.

- Mango Office: ``sign = sha256(vpbx_api_key + json + vpbx_api_salt)`` in hex, and the
  ``vpbx_api_key`` field must be our key (REFUGE_MANGO_API_KEY / REFUGE_MANGO_API_SALT).
- Twilio: ``X-Twilio-Signature`` = base64(HMAC-SHA1(auth token, URL + sorted POST params)),
  where URL is the full URL Twilio requested (scheme, host, path and query string).

Behind a reverse proxy the URL Twilio requested is not the one Django sees. `public_url`
rebuilds it from, in order: ``settings.REFUGE_PUBLIC_URL`` (e.g. ``https://refuge.example.org``,
the most reliable: set it in production), else the request's scheme (``https`` when the
proxy sets ``X-Forwarded-Proto: https``, see SECURE_PROXY_SSL_HEADER) and its ``Host`` header
(the proxy must pass the original Host through). As Twilio's own validator does, the URL is
checked with and without an explicit default port, because Twilio is not consistent about it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.http import HttpRequest


def mango_sign(api_key: str, json_text: str, salt: str) -> str:
    return hashlib.sha256((api_key + json_text + salt).encode("utf-8")).hexdigest()


def mango_verify(vpbx_api_key: str, json_text: str, sign: str) -> bool:
    key = settings.REFUGE_MANGO_API_KEY or ""
    salt = settings.REFUGE_MANGO_API_SALT or ""
    if not key or not salt or not sign:
        return False
    expected = mango_sign(key, json_text, salt)
    key_ok = hmac.compare_digest(vpbx_api_key.encode(), key.encode())
    sign_ok = hmac.compare_digest(sign.strip().lower().encode(), expected.encode())
    return key_ok and sign_ok


def twilio_signature(token: str, url: str, params: dict[str, list[str]]) -> str:
    """Twilio's algorithm: the URL, then each parameter name followed by its value(s), sorted."""
    text = url
    for name in sorted(params):
        for value in sorted(set(params[name])):
            text += name + value
    mac = hmac.new(token.encode("utf-8"), text.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def _with_and_without_port(url: str) -> list[str]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    port = parts.port or default
    bare = urlunsplit((parts.scheme, host, parts.path, parts.query, ""))
    ported = urlunsplit((parts.scheme, f"{host}:{port}", parts.path, parts.query, ""))
    return [bare, ported] if port == default else [url, bare, ported]


def public_url(request: HttpRequest) -> str:
    base = (getattr(settings, "REFUGE_PUBLIC_URL", "") or "").rstrip("/")
    if base:
        return base + request.get_full_path()
    return request.build_absolute_uri()


def twilio_verify(request: HttpRequest) -> bool:
    token = settings.REFUGE_TWILIO_AUTH_TOKEN or ""
    given = request.headers.get("X-Twilio-Signature", "")
    if not token or not given:
        return False
    params = {name: request.POST.getlist(name) for name in request.POST}
    ok = False
    for url in _with_and_without_port(public_url(request)):
        # Every candidate is computed and compared, so timing does not tell which one matched.
        ok |= hmac.compare_digest(twilio_signature(token, url, params).encode(), given.encode())
    return ok
