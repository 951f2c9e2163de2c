"""Tokens, session cookies, CSRF tokens, roles and password rules."""

from __future__ import annotations

from app.auth.csrf import CsrfTokens
from app.auth.roles import Principal, Role, least
from app.auth.sessions import SessionCookies, SessionKey
from app.auth.tokens import looks_like_api_token, new_api_token
from app.auth.users import password_problem
from app.web.forms import safe_next

KEY = "k" * 48


def test_api_tokens_have_a_prefix_and_enough_entropy() -> None:
    token, prefix = new_api_token()
    assert token.startswith(prefix + "_") and prefix.startswith("slc_") and len(prefix) == 12
    assert looks_like_api_token(token)
    assert len(token) - len(prefix) - 1 >= 43  # 32 random bytes
    assert new_api_token()[0] != token
    for wrong in ("", "slc_short", token + "!", token.replace("slc_", "xyz_"), " " + token):
        assert not looks_like_api_token(wrong)


def test_roles_are_ordered_and_tokens_never_exceed_their_user() -> None:
    assert Role.ADMIN.allows(Role.OPERATOR) and Role.OPERATOR.allows(Role.VIEWER)
    assert not Role.VIEWER.allows(Role.OPERATOR) and not Role.OPERATOR.allows(Role.ADMIN)
    assert least(Role.ADMIN, Role.VIEWER) is Role.VIEWER
    assert least(Role.OPERATOR, Role.ADMIN) is Role.OPERATOR
    base = {"tenant_id": 1, "tenant_name": "WEX", "user_id": 2, "email": "a@wex.com"}
    session = Principal(**base, role=Role.VIEWER, via="session")
    token = Principal(**base, role=Role.ADMIN, via="token", token_id=3, token_name="ci")
    assert session.actor == "a@wex.com" and token.actor == "token:ci (a@wex.com)"


def test_session_cookies_are_signed_and_bound_to_their_tenant() -> None:
    cookies = SessionCookies(KEY)
    value = cookies.dumps(SessionKey(7, "random-token"))
    assert cookies.loads(value) == SessionKey(7, "random-token")
    assert SessionCookies("x" * 48).loads(value) is None  # another secret key
    payload, _, rest = value.partition(".")
    assert cookies.loads(payload[:-2] + "AA." + rest) is None
    assert cookies.loads("") is None and cookies.loads("garbage") is None


def test_csrf_tokens_must_repeat_a_signed_cookie() -> None:
    csrf = CsrfTokens(KEY)
    token = csrf.issue()
    assert csrf.valid(token) and csrf.matches(token, token)
    assert not csrf.matches(token, None) and not csrf.matches(None, token)
    assert not csrf.matches(token, csrf.issue())
    planted = CsrfTokens("x" * 48).issue()  # a cookie set by someone without the key
    assert not csrf.matches(planted, planted)
    assert not csrf.valid("unsigned")


def test_password_rules() -> None:
    assert password_problem("short") is not None
    assert password_problem("aaaaaaaaaaaaaaaa") is not None
    assert password_problem("correct horse battery") is None


def test_login_redirects_stay_on_the_site() -> None:
    assert safe_next("/runs?x=1") == "/runs?x=1"
    for target in (None, "", "https://evil.example", "//evil.example", "/\\evil", "runs"):
        assert safe_next(target) == "/"
