"""Access tokens: every item of the token section of the security guide,
interoperability with an independent JWT implementation (PyJWT), bans."""
import base64
import json
import time
import uuid

import jwt as pyjwt

from conftest import Client, assert_error, psql, register, stack_env

SECRET = stack_env()["JWT_SECRET"]


def claims_of(token):
    return pyjwt.decode(token, SECRET, algorithms=["HS256"], audience="lexar-api",
                        issuer="lexar")


def b64(d):
    return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()


def user():
    c, b = register()
    return c, claims_of(b["access_token"])


def denied(tok):
    r = Client(tok).get("/api/v1/me")
    assert_error(r, 401, "invalid_token")


def test_our_token_verifies_with_pyjwt_and_carries_the_claims():
    c, cl = user()
    assert cl["typ"] == "access" and cl["sub"] == c.user["id"]
    assert cl["iss"] == "lexar" and cl["aud"] == "lexar-api" and cl["role"] == "user"
    for k in ("org", "sid", "jti", "iat", "nbf", "exp"):
        assert k in cl
    assert cl["exp"] - cl["iat"] == 900
    hdr = pyjwt.get_unverified_header(c.token)
    assert hdr["alg"] == "HS256"


def test_a_token_signed_by_pyjwt_with_our_secret_and_claims_is_accepted():
    c, cl = user()
    now = int(time.time())
    cl.update(iat=now, nbf=now, exp=now + 60, jti=uuid.uuid4().hex)
    tok = pyjwt.encode(cl, SECRET, algorithm="HS256")
    r = Client(tok).get("/api/v1/me")
    assert r.status_code == 200 and r.json()["id"] == c.user["id"]


def test_alg_none_is_refused():
    c, cl = user()
    denied(b64({"alg": "none", "typ": "JWT"}) + "." + b64(cl) + ".")
    denied(b64({"alg": "none", "typ": "JWT"}) + "." + b64(cl) + "." + c.token.split(".")[2])


def test_other_algorithms_are_refused_even_with_our_secret():
    c, cl = user()
    denied(pyjwt.encode(cl, SECRET, algorithm="HS384"))
    denied(pyjwt.encode(cl, SECRET, algorithm="HS512"))
    # An RS256 header over our payload, "signed" with the secret.
    h, p, s = c.token.split(".")
    denied(b64({"alg": "RS256", "typ": "JWT"}) + "." + p + "." + s)


def test_tampered_payload_and_bad_signature_are_refused():
    c, cl = user()
    h, p, s = c.token.split(".")
    evil = dict(cl, role="admin")
    denied(h + "." + b64(evil) + "." + s)
    denied(h + "." + p + "." + s[:-4] + ("AAAA" if s[-4:] != "AAAA" else "BBBB"))
    denied(pyjwt.encode(cl, "another secret of sufficient length!!", algorithm="HS256"))


def forged(cl, **changes):
    d = dict(cl)
    for k, v in changes.items():
        if v is None:
            d.pop(k, None)
        else:
            d[k] = v
    return pyjwt.encode(d, SECRET, algorithm="HS256")


def test_each_claim_is_checked():
    c, cl = user()
    now = int(time.time())
    assert Client(forged(cl)).get("/api/v1/me").status_code == 200
    denied(forged(cl, exp=now - 5))                       # expired
    denied(forged(cl, nbf=now + 3600))                    # not yet valid
    denied(forged(cl, iat=now + 3600))                    # issued in the future
    denied(forged(cl, iss="someone-else"))                # wrong iss
    denied(forged(cl, aud="another-api"))                 # wrong aud
    denied(forged(cl, exp=None))                          # missing exp
    denied(forged(cl, exp=str(now + 600)))                # exp as a string
    denied(forged(cl, exp=now + 600.5))                   # exp not an integer
    denied(forged(cl, typ="refresh"))                     # wrong token type
    denied(forged(cl, typ=None))
    denied(forged(cl, sub="not-a-uuid"))
    denied(forged(cl, role="superuser"))
    denied(forged(cl, jti=None))
    # Claims that verify but do not match the session are refused by the
    # database check: another user's id, an org the user is not in, admin.
    other, ocl = user()
    denied(forged(cl, sub=ocl["sub"]))
    denied(forged(cl, org=ocl["org"]))
    denied(forged(cl, role="admin"))


def test_refresh_token_is_not_an_access_token():
    c, b = register()
    denied(b["refresh_token"])
    denied(b["refresh_token"][4:])


def test_ban_takes_effect_on_an_unexpired_token_at_once():
    c, _ = register()
    assert c.get("/api/v1/me").status_code == 200
    psql(f"UPDATE users SET banned_at = now(), ban_reason = 'spam' WHERE id = '{c.user['id']}'")
    err = assert_error(c.get("/api/v1/me"), 403, "account_banned")
    assert "spam" in err["message"]
    # Nothing is written for a banned user either (the statement is skipped).
    assert_error(c.patch("/api/v1/me", {"name": "changed"}), 403, "account_banned")
    assert psql(f"SELECT name FROM users WHERE id = '{c.user['id']}'") == "Test User"
    r = Client().post("/api/v1/auth/login", {"email": c.email, "password": c.password})
    assert_error(r, 403, "account_banned")
    r = Client().post("/api/v1/auth/refresh", {"refresh_token": c.refresh})
    assert_error(r, 403, "account_banned")
