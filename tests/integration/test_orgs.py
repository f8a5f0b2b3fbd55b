"""Organisations, members, invitations, switching - and other tenants' objects."""
import uuid

from conftest import (PASSWORD, Client, assert_error, login, mail_token, register,
                      unique_email)


def org_of(c, name="Acme"):
    r = c.post("/api/v1/orgs", {"name": name})
    assert r.status_code == 201, r.text
    return r.json()


def invite_and_join(owner, org, role="member"):
    email = unique_email("invitee")
    r = owner.post(f"/api/v1/orgs/{org['id']}/invitations", {"email": email, "role": role})
    assert r.status_code == 201, r.text
    tok = mail_token(email, "invitations/accept")
    c, _ = register(email=email)
    r = c.post("/api/v1/invitations/accept", {"token": tok})
    assert r.status_code == 200, r.text
    assert r.json() == {"org_id": org["id"], "name": org["name"], "role": role}
    return c


def test_create_list_get_rename():
    c, _ = register()
    o = org_of(c)
    assert o["role"] == "owner" and o["personal"] is False
    orgs = c.get("/api/v1/orgs").json()["items"]
    assert {x["id"] for x in orgs} >= {o["id"]} and len(orgs) == 2
    g = c.get(f"/api/v1/orgs/{o['id']}").json()
    assert g["member_count"] == 1
    r = c.patch(f"/api/v1/orgs/{o['id']}", {"name": "Acme Ltd"})
    assert r.status_code == 200 and r.json()["name"] == "Acme Ltd"
    assert_error(c.post("/api/v1/orgs", {"name": ""}), 422, "validation_failed")
    assert_error(c.get("/api/v1/orgs/not-a-uuid"), 404, "not_found")


def test_invitation_by_mail_join_switch_and_roles():
    owner, _ = register()
    o = org_of(owner)
    m = invite_and_join(owner, o)
    members = owner.get(f"/api/v1/orgs/{o['id']}/members").json()["items"]
    assert [x["role"] for x in members] == ["owner", "member"]
    # Switch: a token for the org; /me shows it.
    r = m.post("/api/v1/auth/switch-org", {"org_id": o["id"]})
    assert r.status_code == 200 and r.json()["org"]["role"] == "member"
    m2 = Client(r.json()["access_token"])
    assert m2.get("/api/v1/me").json()["org"]["id"] == o["id"]
    # Members cannot manage.
    assert_error(m2.post(f"/api/v1/orgs/{o['id']}/invitations", {"email": unique_email()}),
                 403, "forbidden")
    assert_error(m2.patch(f"/api/v1/orgs/{o['id']}", {"name": "mine"}), 403, "forbidden")
    # Promote, then the last owner cannot be demoted.
    uid = owner.user["id"]
    assert_error(owner.patch(f"/api/v1/orgs/{o['id']}/members/{uid}", {"role": "member"}),
                 409, "last_owner")
    r = owner.patch(f"/api/v1/orgs/{o['id']}/members/{m.user['id']}", {"role": "admin"})
    assert r.status_code == 200 and r.json()["role"] == "admin"
    # Removing the member ends their token for that org at once.
    assert owner.delete(f"/api/v1/orgs/{o['id']}/members/{m.user['id']}").status_code == 204
    assert_error(m2.get("/api/v1/me"), 401, "invalid_token")
    assert m.get("/api/v1/me").status_code == 200      # personal org token still fine
    # ... and a refresh moves the session back to the personal org.
    rr = Client().post("/api/v1/auth/refresh", {"refresh_token": m.refresh})
    assert rr.status_code == 200


def test_invitation_rules():
    owner, _ = register()
    o = org_of(owner)
    personal = owner.get("/api/v1/me").json()["org"]["id"]
    assert_error(owner.post(f"/api/v1/orgs/{personal}/invitations", {"email": unique_email()}),
                 409, "personal_org")
    email = unique_email("wrong")
    owner.post(f"/api/v1/orgs/{o['id']}/invitations", {"email": email})
    tok = mail_token(email, "invitations/accept")
    stranger, _ = register()
    assert_error(stranger.post("/api/v1/invitations/accept", {"token": tok}), 403, "wrong_account")
    inv = owner.get(f"/api/v1/orgs/{o['id']}/invitations").json()["items"]
    assert [i["email"] for i in inv] == [email]
    assert owner.delete(f"/api/v1/orgs/{o['id']}/invitations/{inv[0]['id']}").status_code == 204
    c, _ = register(email=email)
    assert_error(c.post("/api/v1/invitations/accept", {"token": tok}), 422, "validation_failed")
    assert_error(owner.post(f"/api/v1/orgs/{o['id']}/invitations", {"email": owner.email}),
                 409, "already_member")
    assert_error(owner.post(f"/api/v1/orgs/{o['id']}/invitations",
                            {"email": unique_email(), "role": "owner"}), 422, "validation_failed")


def test_bola_another_tenants_org_is_404_everywhere():
    a, _ = register()
    b, _ = register()
    o = org_of(a)
    email = unique_email()
    a.post(f"/api/v1/orgs/{o['id']}/invitations", {"email": email})
    inv = a.get(f"/api/v1/orgs/{o['id']}/invitations").json()["items"][0]
    base = f"/api/v1/orgs/{o['id']}"
    for method, path, body in [
            ("GET", base, None), ("PATCH", base, {"name": "pwned"}),
            ("GET", base + "/members", None),
            ("PATCH", f"{base}/members/{a.user['id']}", {"role": "member"}),
            ("DELETE", f"{base}/members/{a.user['id']}", None),
            ("POST", base + "/invitations", {"email": unique_email()}),
            ("GET", base + "/invitations", None),
            ("DELETE", f"{base}/invitations/{inv['id']}", None)]:
        assert_error(b.call(method, path, body), 404, "not_found")
    assert_error(b.post("/api/v1/auth/switch-org", {"org_id": o["id"]}), 404, "not_found")
    assert o["id"] not in {x["id"] for x in b.get("/api/v1/orgs").json()["items"]}
    assert a.get(base).json()["name"] == "Acme"
    # Nonexistent ids look the same.
    assert_error(b.get(f"/api/v1/orgs/{uuid.uuid4()}"), 404, "not_found")


def test_admins_cannot_touch_owners_and_members_can_leave():
    owner, _ = register()
    o = org_of(owner)
    adm = invite_and_join(owner, o, role="admin")
    mem = invite_and_join(owner, o)
    a2 = Client(adm.post("/api/v1/auth/switch-org", {"org_id": o["id"]}).json()["access_token"])
    assert_error(a2.patch(f"/api/v1/orgs/{o['id']}/members/{owner.user['id']}", {"role": "member"}),
                 403, "forbidden")
    assert_error(a2.patch(f"/api/v1/orgs/{o['id']}/members/{mem.user['id']}", {"role": "owner"}),
                 403, "forbidden")
    assert a2.patch(f"/api/v1/orgs/{o['id']}/members/{mem.user['id']}",
                    {"role": "admin"}).status_code == 200
    assert mem.delete(f"/api/v1/orgs/{o['id']}/members/{mem.user['id']}").status_code == 204
    assert_error(owner.delete(f"/api/v1/orgs/{o['id']}/members/{owner.user['id']}"),
                 409, "last_owner")


def test_deleting_the_only_owner_of_a_shared_org_is_refused():
    owner, _ = register()
    o = org_of(owner)
    invite_and_join(owner, o)
    assert_error(owner.delete("/api/v1/me", {"password": PASSWORD}), 409, "transfer_ownership")
    assert owner.get("/api/v1/me").status_code == 200
