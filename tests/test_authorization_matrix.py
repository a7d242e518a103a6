"""Walk every URL pattern; each must have a matrix entry, and each role must get what it says."""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import SimpleNamespace

import pytest
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import tests
from refuge.core.roles import Role
from tests.conftest import sign_in
from tests.matrix_base import Case


def _all_cases() -> dict[str, Case]:
    found: dict[str, Case] = {}
    for mod in pkgutil.iter_modules(tests.__path__):
        if not mod.ispkg:
            continue
        try:
            module = importlib.import_module(f"tests.{mod.name}.matrix")
        except ModuleNotFoundError:
            continue
        for case in module.CASES:
            assert case.name not in found, f"{case.name} is in two matrix files"
            found[case.name] = case
    return found


def _walk(patterns, ns: str = "", prefix: str = ""):
    for p in patterns:
        if isinstance(p, URLResolver):
            inner_ns = f"{ns}:{p.namespace}" if ns and p.namespace else (p.namespace or ns)
            yield from _walk(p.url_patterns, inner_ns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            if p.name:
                yield f"{ns}:{p.name}" if ns else p.name
            else:
                yield f"re:{prefix}{p.pattern}"


def url_names() -> set[str]:
    return set(_walk(get_resolver().url_patterns))


CASES = _all_cases()


def test_every_url_pattern_has_a_matrix_entry():
    names = url_names()
    missing = sorted(names - set(CASES))
    stale = sorted(set(CASES) - names)
    assert not missing, f"URL patterns without an authorization matrix entry: {missing}"
    assert not stale, f"matrix entries for URL patterns that do not exist: {stale}"


def _expect(case: Case, role: str | None) -> tuple[int, ...]:
    if role is None:
        value = case.anon
    else:
        value = case.ok if role in case.allowed else case.denied
    return value if isinstance(value, tuple) else (value,)


def _request(case: Case, client: HttpClient, ctx) -> int:
    kwargs = case.setup(ctx) if case.setup else {}
    url = case.path or reverse(case.name, kwargs=kwargs)
    assert url is not None and not re.search(r"[<>]", url)
    return getattr(client, case.method)(url, data=case.data, headers=case.headers).status_code


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_role_gets_what_the_matrix_says(name, personas, orgs):
    case = CASES[name]
    ctx = SimpleNamespace(personas=personas, orgs=orgs)
    got, want = {}, {}
    for role in [None, *Role]:
        client = (
            HttpClient()
            if role is None
            else sign_in(HttpClient(), personas[f"{role.value}_a"].user)
        )
        got[role or "anonymous"] = _request(case, client, ctx)
        want[role or "anonymous"] = _expect(case, role)
    wrong = {r: (got[r], want[r]) for r in got if got[r] not in want[r]}
    assert not wrong, f"{name}: role -> (got, expected): {wrong}"
