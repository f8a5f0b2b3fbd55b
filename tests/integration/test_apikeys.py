"""API keys: shown once, hashed, scoped, revocable, private to their owner."""
import hashlib

from conftest import Client, assert_error, psql, register


def test_create_use_list_revoke():
    c, _ = register()
    r = c.post("/api/v1/api-keys", {"name": "ci", "scopes": ["read", "llm"],
                                    "expires_at": "2099-01-01T00:00:00Z"})
    assert r.status_code == 201, r.text
    k = r.json()
    assert k["key"].startswith("lx_") and len(k["key"]) > 40
    assert k["prefix"] == k["key"][:11] and k["scopes"] == ["read", "llm"]
    stored = psql(f"SELECT key_hash FROM api_keys WHERE id = '{k['id']}'")
    assert stored == hashlib.sha256(k["key"].encode()).hexdigest()
    assert k["key"] not in psql(f"SELECT row_to_json(a)::text FROM api_keys a WHERE id = '{k['id']}'")
    # Accepted as a bearer token where keys are allowed.
    kc = Client(k["key"])
    me = kc.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["id"] == c.user["id"]
    # Not where they are not, nor beyond their scopes.
    assert_error(kc.patch("/api/v1/me", {"name": "x"}), 401, "invalid_token")
    lst = c.get("/api/v1/api-keys").json()["items"]
    assert [x["id"] for x in lst] == [k["id"]] and "key" not in lst[0]
    assert lst[0]["last_used_at"] is not None
    assert c.delete(f"/api/v1/api-keys/{k['id']}").status_code == 204
    assert_error(kc.get("/api/v1/me"), 401, "invalid_token")
    assert c.get("/api/v1/api-keys").json()["items"] == []


def test_scopes_are_enforced():
    c, _ = register()
    k = c.post("/api/v1/api-keys", {"name": "llm only"}).json()
    assert k["scopes"] == ["llm"]
    assert_error(Client(k["key"]).get("/api/v1/me"), 403, "insufficient_scope")


def test_validation():
    c, _ = register()
    for body, field in [({}, "name"), ({"name": "x", "scopes": ["admin"]}, "scopes"),
                        ({"name": "x", "scopes": []}, "scopes"),
                        ({"name": "x", "scopes": ["llm", "llm"]}, "scopes"),
                        ({"name": "x", "expires_at": "tomorrow"}, "expires_at"),
                        ({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
                        ({"name": "x", "expires_at": "2030-13-45T00:00:00Z"}, "expires_at")]:
        err = assert_error(c.post("/api/v1/api-keys", body), 422, "validation_failed")
        assert field in err["fields"], (body, err)


def test_expired_key_is_refused():
    c, _ = register()
    k = c.post("/api/v1/api-keys", {"name": "short", "scopes": ["read"]}).json()
    psql(f"UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = '{k['id']}'")
    assert_error(Client(k["key"]).get("/api/v1/me"), 401, "invalid_token")


def test_bola_keys_of_others_are_invisible_and_untouchable():
    a, _ = register()
    b, _ = register()
    k = a.post("/api/v1/api-keys", {"name": "a's key", "scopes": ["read"]}).json()
    assert b.get("/api/v1/api-keys").json()["items"] == []
    assert_error(b.delete(f"/api/v1/api-keys/{k['id']}"), 404, "not_found")
    assert Client(k["key"]).get("/api/v1/me").status_code == 200


def test_keys_cannot_make_keys_or_change_passwords():
    c, _ = register()
    k = c.post("/api/v1/api-keys", {"name": "rw", "scopes": ["read", "write"]}).json()
    kc = Client(k["key"])
    assert_error(kc.post("/api/v1/api-keys", {"name": "child"}), 401, "invalid_token")
