"""Signature checks: known vectors (computed with coreutils sha256sum and openssl, not with our
code), Twilio's own library as the client, constant-time comparison, URLs behind a proxy."""

import hmac
import json

import pytest
from django.test import Client as HttpClient
from django.test import override_settings
from twilio.request_validator import RequestValidator

from refuge.hotline import signatures
from refuge.hotline.models import Call
from tests.hotline.helpers import (
    MANGO_CALL,
    TWILIO_STATUS,
    TWILIO_TOKEN,
    mango_form,
    twilio_post,
)

# printf '%s' 'test-mango-key<json>test-mango-salt' | sha256sum
MANGO_VECTOR_JSON = (
    '{"entry_id": "vector-1", "call_id": "leg-1", "timestamp": 1741000000, "seq": 1, '
    '"call_state": "Appeared", "location": "ivr", "from": {"number": "79161234567"}, '
    '"to": {"line_number": "74951112233"}}'
)
MANGO_VECTOR_SIGN = "f2d148d1cbf6d5d2a6af76c40ea981b9b433b419350b4612e78722ef81629892"


def test_mango_sign_matches_known_vectors():
    assert (
        signatures.mango_sign("test-mango-key", MANGO_VECTOR_JSON, "test-mango-salt")
        == MANGO_VECTOR_SIGN
    )
    assert (
        signatures.mango_sign("qwerty123", '{"a":1}', "salt")
        == "68ab64c1a477304702ce26e7965929a90627b857487df29fbf854113e0a09a53"
    )


def test_mango_verify_accepts_the_vector_and_refuses_any_change():
    assert signatures.mango_verify("test-mango-key", MANGO_VECTOR_JSON, MANGO_VECTOR_SIGN)
    assert signatures.mango_verify("test-mango-key", MANGO_VECTOR_JSON, MANGO_VECTOR_SIGN.upper())
    assert not signatures.mango_verify("other-key", MANGO_VECTOR_JSON, MANGO_VECTOR_SIGN)
    assert not signatures.mango_verify("test-mango-key", MANGO_VECTOR_JSON + " ", MANGO_VECTOR_SIGN)
    assert not signatures.mango_verify(
        "test-mango-key", MANGO_VECTOR_JSON, MANGO_VECTOR_SIGN[:-1] + "0"
    )
    assert not signatures.mango_verify("test-mango-key", MANGO_VECTOR_JSON, "")


def test_mango_refuses_everything_when_no_salt_is_configured(settings):
    settings.REFUGE_MANGO_API_SALT = ""
    assert not signatures.mango_verify(
        "test-mango-key", "{}", signatures.mango_sign("test-mango-key", "{}", "")
    )


def test_signatures_are_compared_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signatures.hmac, "compare_digest", spy)
    signatures.mango_verify("test-mango-key", MANGO_VECTOR_JSON, MANGO_VECTOR_SIGN)
    assert (MANGO_VECTOR_SIGN.encode(), MANGO_VECTOR_SIGN.encode()) in calls


def test_twilio_signature_matches_twilios_published_example():
    # The example of Twilio's webhook-security documentation; checked with openssl.
    params = {
        "CallSid": ["CA1234567890ABCDE"],
        "Caller": ["+14158675309"],
        "Digits": ["1234"],
        "From": ["+14158675309"],
        "To": ["+18005551212"],
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert signatures.twilio_signature("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_twilio_signature_agrees_with_the_official_library():
    params = {"CallSid": "CA42", "CallStatus": "completed", "Direction": "inbound",
              "From": "+74951234567", "To": "+74950000001"}  # fmt: skip
    url = "https://refuge.example.org/api/v1/telephony/twilio/status?location=operator"
    ours = signatures.twilio_signature(TWILIO_TOKEN, url, {k: [v] for k, v in params.items()})
    assert ours == RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    assert ours == "do4XxCN3on3sytp69cnfwy8ZIRc="  # openssl dgst -sha1 -hmac … | base64


PARAMS = {"CallSid": "CAsig", "CallStatus": "ringing", "From": "+74951234567",
          "To": "+74950000001", "Direction": "inbound", "SequenceNumber": "0"}  # fmt: skip


def test_a_twilio_callback_signed_by_the_official_library_is_recorded(db):
    r = twilio_post(HttpClient(), PARAMS)
    assert r.status_code == 200 and r.json()["status"] == "recorded"
    assert Call.objects.filter(provider="twilio", entry_id="CAsig").exists()


@pytest.mark.parametrize(
    "change",
    ["token", "param", "query", "missing"],
)
def test_a_wrong_twilio_signature_is_refused_and_nothing_is_saved(db, change):
    client = HttpClient()
    if change == "token":
        r = twilio_post(client, PARAMS, token="not-the-token")
    elif change == "param":
        url = f"http://testserver{TWILIO_STATUS}"
        sig = RequestValidator(TWILIO_TOKEN).compute_signature(url, PARAMS)
        r = client.post(TWILIO_STATUS, {**PARAMS, "CallStatus": "completed"},
                        HTTP_X_TWILIO_SIGNATURE=sig)  # fmt: skip
    elif change == "query":
        url = f"http://testserver{TWILIO_STATUS}"
        sig = RequestValidator(TWILIO_TOKEN).compute_signature(url, PARAMS)
        r = client.post(f"{TWILIO_STATUS}?location=ivr", PARAMS, HTTP_X_TWILIO_SIGNATURE=sig)
    else:
        r = client.post(TWILIO_STATUS, PARAMS)
    assert r.status_code == 403
    assert r.json()["code"] == "signature_invalid" and set(r.json()) == {
        "code",
        "message",
        "details",
    }
    assert not Call.objects.exists()


def test_behind_a_proxy_the_public_url_setting_is_what_is_signed(db):
    # Twilio asked https://refuge.example.org/…; the app server sees http://10.0.0.5:8000/….
    public = "https://refuge.example.org"
    sig = RequestValidator(TWILIO_TOKEN).compute_signature(f"{public}{TWILIO_STATUS}", PARAMS)
    with override_settings(ALLOWED_HOSTS=["10.0.0.5"]):
        client = HttpClient()
        refused = client.post(
            TWILIO_STATUS, PARAMS, HTTP_X_TWILIO_SIGNATURE=sig, HTTP_HOST="10.0.0.5:8000"
        )
        assert refused.status_code == 403
        with override_settings(REFUGE_PUBLIC_URL=public + "/"):
            ok = client.post(
                TWILIO_STATUS, PARAMS, HTTP_X_TWILIO_SIGNATURE=sig, HTTP_HOST="10.0.0.5:8000"
            )
    assert ok.status_code == 200


def test_behind_a_proxy_the_forwarded_scheme_and_host_header_are_used(db):
    host = "refuge.example.org"
    with override_settings(
        ALLOWED_HOSTS=[host], SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")
    ):
        for url in (f"https://{host}{TWILIO_STATUS}", f"https://{host}:443{TWILIO_STATUS}"):
            params = {**PARAMS, "CallSid": f"CA-{len(url)}"}
            sig = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
            r = HttpClient().post(TWILIO_STATUS, params, HTTP_X_TWILIO_SIGNATURE=sig,
                                  HTTP_HOST=host, HTTP_X_FORWARDED_PROTO="https")  # fmt: skip
            assert r.status_code == 200, url
        # Without the forwarded scheme the https signature does not match the http request.
        sig = RequestValidator(TWILIO_TOKEN).compute_signature(
            f"https://{host}{TWILIO_STATUS}", PARAMS
        )
        r = HttpClient().post(TWILIO_STATUS, PARAMS, HTTP_X_TWILIO_SIGNATURE=sig, HTTP_HOST=host)
        assert r.status_code == 403


def test_pbx_webhooks_need_no_csrf_token(db):
    client = HttpClient(enforce_csrf_checks=True)
    payload = json.loads(MANGO_VECTOR_JSON)
    assert client.post(MANGO_CALL, mango_form(payload)).status_code == 200
    assert twilio_post(client, PARAMS).status_code == 200
