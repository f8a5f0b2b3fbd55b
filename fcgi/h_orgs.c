/*
 * h_orgs.c - organisations (tenants), their members and invitations.
 *
 * Roles in an organisation: owner | admin | member. Owners and admins
 * manage members and invitations; only owners touch owners; the last
 * owner can be neither demoted nor removed. Someone who is not a member
 * gets 404 for everything under /orgs/:id, whatever the id.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "lexar.h"
#include "mail.h"
#include "token.h"
#include "util.h"

#define ORG_COLS "o.id, o.name, o.personal, m.role, o.created_at"

static struct db_stmt st_create = DB_STMT(
    "WITH o AS (INSERT INTO orgs (name, created_by) VALUES ($1, $2) RETURNING *),"
    " m AS (INSERT INTO org_members (org_id, user_id, role)"
    "   SELECT id, $2, 'owner' FROM o RETURNING role)"
    " SELECT " ORG_COLS " FROM o, m");
static struct db_stmt st_list = DB_STMT(
    "SELECT " ORG_COLS ", m.created_at::text FROM org_members m"
    " JOIN orgs o ON o.id = m.org_id WHERE m.user_id = $1"
    " AND ($2::timestamptz IS NULL OR (m.created_at, o.id) < ($2::timestamptz, $3::uuid))"
    " ORDER BY m.created_at DESC, o.id DESC LIMIT $4");
static struct db_stmt st_get = DB_STMT(
    "SELECT " ORG_COLS ", (SELECT count(*) FROM org_members x WHERE x.org_id = o.id)"
    " FROM orgs o JOIN org_members m ON m.org_id = o.id AND m.user_id = $2"
    " WHERE o.id = $1");
static struct db_stmt st_rename = DB_STMT(
    "UPDATE orgs o SET name = $3 FROM org_members m"
    " WHERE o.id = $1 AND m.org_id = o.id AND m.user_id = $2"
    " AND m.role IN ('owner', 'admin') RETURNING " ORG_COLS);
static struct db_stmt st_my_role = DB_STMT(
    "SELECT m.role, o.personal FROM org_members m JOIN orgs o ON o.id = m.org_id"
    " WHERE m.org_id = $1 AND m.user_id = $2");
static struct db_stmt st_members = DB_STMT(
    "SELECT u.id, u.email, u.name, m.role, m.created_at, m.created_at::text"
    " FROM org_members m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1"
    " AND ($2::timestamptz IS NULL OR (m.created_at, u.id) > ($2::timestamptz, $3::uuid))"
    " ORDER BY m.created_at, u.id LIMIT $4");
static struct db_stmt st_member_role = DB_STMT(
    "SELECT m.role, (SELECT count(*) FROM org_members x WHERE x.org_id = $1"
    "  AND x.role = 'owner') FROM org_members m WHERE m.org_id = $1 AND m.user_id = $2");
static struct db_stmt st_member_set = DB_STMT(
    "UPDATE org_members SET role = $3 WHERE org_id = $1 AND user_id = $2");
static struct db_stmt st_member_del = DB_STMT(
    "DELETE FROM org_members WHERE org_id = $1 AND user_id = $2");
static struct db_stmt st_lock_org = DB_STMT(
    "SELECT 1 FROM orgs WHERE id = $1 FOR UPDATE");
static struct db_stmt st_invite = DB_STMT(
    "INSERT INTO invitations AS i (org_id, email, role, token_hash, invited_by, expires_at)"
    " SELECT $1, $2, $3, $4, $5, now() + interval '7 days'"
    " WHERE NOT EXISTS (SELECT 1 FROM org_members m JOIN users u ON u.id = m.user_id"
    "   WHERE m.org_id = $1 AND lower(u.email) = lower($2))"
    " RETURNING i.id, i.email, i.role, i.created_at, i.expires_at,"
    "  (SELECT name FROM orgs WHERE id = $1)");
static struct db_stmt st_invitations = DB_STMT(
    "SELECT i.id, i.email, i.role, i.created_at, i.expires_at, i.created_at::text"
    " FROM invitations i WHERE i.org_id = $1 AND i.accepted_at IS NULL"
    " AND i.revoked_at IS NULL AND i.expires_at > now()"
    " AND ($2::timestamptz IS NULL OR (i.created_at, i.id) < ($2::timestamptz, $3::uuid))"
    " ORDER BY i.created_at DESC, i.id DESC LIMIT $4");
static struct db_stmt st_invitation_revoke = DB_STMT(
    "UPDATE invitations SET revoked_at = now() WHERE id = $1 AND org_id = $2"
    " AND accepted_at IS NULL AND revoked_at IS NULL RETURNING id");
static struct db_stmt st_accept = DB_STMT(
    "SELECT i.id, i.org_id, i.role, i.email, o.name FROM invitations i"
    " JOIN orgs o ON o.id = i.org_id WHERE i.token_hash = $1"
    " AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now()"
    " FOR UPDATE OF i");
static struct db_stmt st_accept_apply = DB_STMT(
    "WITH a AS (UPDATE invitations SET accepted_at = now(), accepted_by = $2"
    "   WHERE id = $1 RETURNING org_id, role)"
    " INSERT INTO org_members (org_id, user_id, role) SELECT org_id, $2, role FROM a");
static struct db_stmt st_user_email = DB_STMT(
    "SELECT u.email, EXISTS (SELECT 1 FROM org_members m WHERE m.user_id = u.id"
    "  AND m.org_id = $2) FROM users u WHERE u.id = $1");

static json_object *
org_json(PGresult *res, int i)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", jpg_str(res, i, 0));
	json_object_object_add(o, "name", jpg_str(res, i, 1));
	json_object_object_add(o, "personal", jpg_bool(res, i, 2));
	json_object_object_add(o, "role", jpg_str(res, i, 3));
	json_object_object_add(o, "created_at", jpg_time(res, i, 4));
	return o;
}

static bool
manager(const char *role)
{
	return strcmp(role, "owner") == 0 || strcmp(role, "admin") == 0;
}

/*
 * The caller's role in the org of the path: NULL (404 recorded) when not a
 * member. *personal tells if it is a personal organisation.
 */
static const char *
my_role(struct req *r, bool *personal)
{
	const char	*p[2] = { req_path_param(r, "id"), r->auth.user_id };
	PGresult	*res;

	if ((res = req_db(r, &st_my_role, 2, p)) == NULL)
		return NULL;
	if (PQntuples(res) != 1) {
		req_fail(r, 404, "not_found", "no such organisation");
		return NULL;
	}
	if (personal != NULL)
		*personal = PQgetvalue(res, 0, 1)[0] == 't';
	return PQgetvalue(res, 0, 0);
}

static const char *
org_name(struct req *r)
{
	return jv_string(&r->v, r->json, "name", JV_REQUIRED | JV_TRIM | JV_SINGLELINE,
	    1, 100, r->a);
}

/* POST /api/v1/orgs {name} */
int
h_orgs_create(struct req *r)
{
	static const char *const fields[] = { "name", NULL };
	const char	*name, *p[2];
	PGresult	*res;

	jv_only(&r->v, r->json, fields);
	name = org_name(r);
	if (jv_failed(&r->v))
		return req_invalid(r);
	p[0] = name;
	p[1] = r->auth.user_id;
	if ((res = req_db(r, &st_create, 2, p)) == NULL)
		return -1;
	return resp_json(r, 201, jarena(r->a, org_json(res, 0)));
}

/* A {"items": [...], "next_cursor": ...} page from rows (cursor columns). */
static int
page_out(struct req *r, PGresult *res, const struct page *pg, int ts_col,
    int id_col, json_object *(*row)(PGresult *, int))
{
	json_object	*out = jarena(r->a, json_object_new_object());
	json_object	*items = json_object_new_array();
	int		 i, n = PQntuples(res);

	for (i = 0; i < n && i < pg->limit; i++)
		json_object_array_add(items, row(res, i));
	json_object_object_add(out, "items", items);
	json_object_object_add(out, "next_cursor", n > pg->limit ?
	    jstr(page_cursor(r->a, PQgetvalue(res, (int)pg->limit - 1, ts_col),
	    PQgetvalue(res, (int)pg->limit - 1, id_col))) : NULL);
	return resp_json(r, 200, out);
}

/* GET /api/v1/orgs - the caller's organisations. */
int
h_orgs_list(struct req *r)
{
	struct page	 pg;
	const char	*p[4];
	PGresult	*res;

	if (req_page(r, &pg, 50, 100) != 0)
		return -1;
	p[0] = r->auth.user_id;
	p[1] = pg.ts;
	p[2] = pg.id;
	p[3] = pg.fetch;
	if ((res = req_db(r, &st_list, 4, p)) == NULL)
		return -1;
	return page_out(r, res, &pg, 5, 0, org_json);
}

/* GET /api/v1/orgs/:id */
int
h_orgs_get(struct req *r)
{
	const char	*p[2] = { req_path_param(r, "id"), r->auth.user_id };
	PGresult	*res;
	json_object	*o;

	if ((res = req_db(r, &st_get, 2, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no such organisation");
	o = jarena(r->a, org_json(res, 0));
	json_object_object_add(o, "member_count", jpg_int(res, 0, 5));
	return resp_json(r, 200, o);
}

/* PATCH /api/v1/orgs/:id {name} - owners and admins. */
int
h_orgs_update(struct req *r)
{
	static const char *const fields[] = { "name", NULL };
	const char	*name, *role, *p[3];
	PGresult	*res;

	jv_only(&r->v, r->json, fields);
	name = org_name(r);
	if (jv_failed(&r->v))
		return req_invalid(r);
	if ((role = my_role(r, NULL)) == NULL)
		return -1;
	if (!manager(role))
		return req_fail(r, 403, "forbidden", "only owners and admins can rename");
	p[0] = req_path_param(r, "id");
	p[1] = r->auth.user_id;
	p[2] = name;
	if ((res = req_db(r, &st_rename, 3, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no such organisation");
	return resp_json(r, 200, jarena(r->a, org_json(res, 0)));
}

static json_object *
member_json(PGresult *res, int i)
{
	json_object *m = json_object_new_object();

	json_object_object_add(m, "user_id", jpg_str(res, i, 0));
	json_object_object_add(m, "email", jpg_str(res, i, 1));
	json_object_object_add(m, "name", jpg_str(res, i, 2));
	json_object_object_add(m, "role", jpg_str(res, i, 3));
	json_object_object_add(m, "joined_at", jpg_time(res, i, 4));
	return m;
}

/* GET /api/v1/orgs/:id/members - oldest first. */
int
h_orgs_members(struct req *r)
{
	struct page	 pg;
	const char	*p[4];
	PGresult	*res;

	if (req_page(r, &pg, 50, 200) != 0 || my_role(r, NULL) == NULL)
		return -1;
	p[0] = req_path_param(r, "id");
	p[1] = pg.ts;
	p[2] = pg.id;
	p[3] = pg.fetch;
	if ((res = req_db(r, &st_members, 4, p)) == NULL)
		return -1;
	return page_out(r, res, &pg, 5, 0, member_json);
}

/*
 * Lock the org, then load the target member: its role and the number of
 * owners. Returns the target's role, or NULL with an error recorded.
 */
static const char *
target_member(struct req *r, const char *org, const char *user, long *owners)
{
	const char	*p[2] = { org, user };
	PGresult	*res;

	if (req_db_begin(r) != 0 || req_db(r, &st_lock_org, 1, p) == NULL ||
	    (res = req_db(r, &st_member_role, 2, p)) == NULL)
		return NULL;
	if (PQntuples(res) != 1) {
		req_fail(r, 404, "not_found", "no such member");
		return NULL;
	}
	*owners = strtol(PQgetvalue(res, 0, 1), NULL, 10);
	return PQgetvalue(res, 0, 0);
}

/* PATCH /api/v1/orgs/:id/members/:user_id {role} */
int
h_orgs_member_update(struct req *r)
{
	static const char *const fields[] = { "role", NULL };
	const char	*org = req_path_param(r, "id"), *uid = req_path_param(r, "user_id");
	const char	*role, *mine, *theirs, *p[3];
	long		 owners;

	jv_only(&r->v, r->json, fields);
	role = jv_string(&r->v, r->json, "role", JV_REQUIRED, 1, 10, r->a);
	if (role != NULL && strcmp(role, "owner") != 0 && strcmp(role, "admin") != 0 &&
	    strcmp(role, "member") != 0)
		jv_error(&r->v, "role", "must be owner, admin or member");
	if (jv_failed(&r->v))
		return req_invalid(r);
	if ((mine = my_role(r, NULL)) == NULL)
		return -1;
	if (!manager(mine))
		return req_fail(r, 403, "forbidden", "only owners and admins manage members");
	if ((theirs = target_member(r, org, uid, &owners)) == NULL)
		return -1;
	if (strcmp(mine, "owner") != 0 && (strcmp(theirs, "owner") == 0 ||
	    strcmp(role, "owner") == 0))
		return req_fail(r, 403, "forbidden", "only owners grant or change ownership");
	if (strcmp(theirs, "owner") == 0 && strcmp(role, "owner") != 0 && owners <= 1)
		return req_fail(r, 409, "last_owner", "an organisation needs an owner");
	p[0] = org;
	p[1] = uid;
	p[2] = role;
	if (req_db(r, &st_member_set, 3, p) == NULL || req_db_commit(r) != 0)
		return -1;
	return h_orgs_members_one(r, org, uid);
}

/* DELETE /api/v1/orgs/:id/members/:user_id - remove, or leave (self). */
int
h_orgs_member_remove(struct req *r)
{
	const char	*org = req_path_param(r, "id"), *uid = req_path_param(r, "user_id");
	const char	*mine, *theirs, *p[2];
	bool		 self = strcasecmp(uid, r->auth.user_id) == 0;
	long		 owners;

	if ((mine = my_role(r, NULL)) == NULL)
		return -1;
	if (!self && !manager(mine))
		return req_fail(r, 403, "forbidden", "only owners and admins remove members");
	if ((theirs = target_member(r, org, uid, &owners)) == NULL)
		return -1;
	if (!self && strcmp(theirs, "owner") == 0 && strcmp(mine, "owner") != 0)
		return req_fail(r, 403, "forbidden", "only owners remove owners");
	if (strcmp(theirs, "owner") == 0 && owners <= 1)
		return req_fail(r, 409, "last_owner", "an organisation needs an owner");
	p[0] = org;
	p[1] = uid;
	if (req_db(r, &st_member_del, 2, p) == NULL || req_db_commit(r) != 0)
		return -1;
	r->status = 204;
	return 0;
}

static json_object *
invitation_json(PGresult *res, int i)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", jpg_str(res, i, 0));
	json_object_object_add(o, "email", jpg_str(res, i, 1));
	json_object_object_add(o, "role", jpg_str(res, i, 2));
	json_object_object_add(o, "created_at", jpg_time(res, i, 3));
	json_object_object_add(o, "expires_at", jpg_time(res, i, 4));
	return o;
}

/* POST /api/v1/orgs/:id/invitations {email, role?} - mails a link. */
int
h_orgs_invite(struct req *r)
{
	static const char *const fields[] = { "email", "role", NULL };
	const char	*email, *role, *mine, *p[5];
	char		*norm = NULL, *tok, *hash;
	bool		 personal;
	PGresult	*res;

	jv_only(&r->v, r->json, fields);
	email = jv_string(&r->v, r->json, "email", JV_REQUIRED | JV_TRIM, 3, 254, r->a);
	role = jv_string(&r->v, r->json, "role", 0, 1, 10, r->a);
	if (email != NULL && (norm = acct_email_normalize(r->a, email)) == NULL)
		jv_error(&r->v, "email", "must be a valid e-mail address");
	if (role == NULL)
		role = "member";
	else if (strcmp(role, "admin") != 0 && strcmp(role, "member") != 0)
		jv_error(&r->v, "role", "must be admin or member");
	if (jv_failed(&r->v))
		return req_invalid(r);
	if ((mine = my_role(r, &personal)) == NULL)
		return -1;
	if (!manager(mine))
		return req_fail(r, 403, "forbidden", "only owners and admins invite");
	if (personal)
		return req_fail(r, 409, "personal_org",
		    "a personal organisation cannot be shared; create one");
	tok = token_random(r->a, "", 32, &hash);
	p[0] = req_path_param(r, "id");
	p[1] = norm;
	p[2] = role;
	p[3] = hash;
	p[4] = r->auth.user_id;
	if ((res = req_db(r, &st_invite, 5, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 409, "already_member", "%s is already a member", norm);
	mail_send(r, norm, "You are invited to a Lexar organisation", arena_sprintf(r->a,
	    "Hello,\n\nYou are invited to join \"%s\" on Lexar as %s.\n"
	    "To accept, sign in with this e-mail address and open within 7 days:\n\n"
	    "%s/invitations/accept?token=%s\n", PQgetvalue(res, 0, 5), role,
	    cfg.frontend_url, tok));
	return resp_json(r, 201, jarena(r->a, invitation_json(res, 0)));
}

/* GET /api/v1/orgs/:id/invitations - pending ones; owners and admins. */
int
h_orgs_invitations(struct req *r)
{
	struct page	 pg;
	const char	*mine, *p[4];
	PGresult	*res;

	if (req_page(r, &pg, 50, 100) != 0 || (mine = my_role(r, NULL)) == NULL)
		return -1;
	if (!manager(mine))
		return req_fail(r, 403, "forbidden", "only owners and admins see invitations");
	p[0] = req_path_param(r, "id");
	p[1] = pg.ts;
	p[2] = pg.id;
	p[3] = pg.fetch;
	if ((res = req_db(r, &st_invitations, 4, p)) == NULL)
		return -1;
	return page_out(r, res, &pg, 5, 0, invitation_json);
}

/* DELETE /api/v1/orgs/:id/invitations/:invitation_id */
int
h_orgs_invitation_revoke(struct req *r)
{
	const char	*mine, *p[2];
	PGresult	*res;

	if ((mine = my_role(r, NULL)) == NULL)
		return -1;
	if (!manager(mine))
		return req_fail(r, 403, "forbidden", "only owners and admins revoke invitations");
	p[0] = req_path_param(r, "invitation_id");
	p[1] = req_path_param(r, "id");
	if ((res = req_db(r, &st_invitation_revoke, 2, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no such invitation");
	r->status = 204;
	return 0;
}

/* POST /api/v1/invitations/accept {token} - by the invited address only. */
int
h_orgs_accept(struct req *r)
{
	static const char *const fields[] = { "token", NULL };
	const char	*tok, *p[2];
	PGresult	*inv, *me;
	json_object	*out;

	jv_only(&r->v, r->json, fields);
	tok = jv_string(&r->v, r->json, "token", JV_REQUIRED | JV_SINGLELINE, 1, 200, r->a);
	if (jv_failed(&r->v))
		return req_invalid(r);
	p[0] = token_hash(r->a, tok);
	if (req_db_begin(r) != 0 || (inv = req_db(r, &st_accept, 1, p)) == NULL)
		return -1;
	if (PQntuples(inv) != 1) {
		jv_error(&r->v, "token", "is invalid, expired or already used");
		return req_invalid(r);
	}
	p[0] = r->auth.user_id;
	p[1] = PQgetvalue(inv, 0, 1);
	if ((me = req_db(r, &st_user_email, 2, p)) == NULL)
		return -1;
	if (PQntuples(me) != 1 || strcasecmp(PQgetvalue(me, 0, 0), PQgetvalue(inv, 0, 3)) != 0)
		return req_fail(r, 403, "wrong_account",
		    "this invitation is for another e-mail address");
	if (PQgetvalue(me, 0, 1)[0] == 't')
		return req_fail(r, 409, "already_member",
		    "you are already a member of this organisation");
	p[0] = PQgetvalue(inv, 0, 0);
	p[1] = r->auth.user_id;
	if (req_db(r, &st_accept_apply, 2, p) == NULL || req_db_commit(r) != 0)
		return -1;
	out = jarena(r->a, json_object_new_object());
	json_object_object_add(out, "org_id", jpg_str(inv, 0, 1));
	json_object_object_add(out, "name", jpg_str(inv, 0, 4));
	json_object_object_add(out, "role", jpg_str(inv, 0, 2));
	return resp_json(r, 200, out);
}

/* The one member (after a change), as JSON. */
int
h_orgs_members_one(struct req *r, const char *org, const char *uid)
{
	static struct db_stmt st_one = DB_STMT(
	    "SELECT u.id, u.email, u.name, m.role, m.created_at"
	    " FROM org_members m JOIN users u ON u.id = m.user_id"
	    " WHERE m.org_id = $1 AND m.user_id = $2");
	const char	*p[2] = { org, uid };
	PGresult	*res;

	if ((res = req_db(r, &st_one, 2, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1)
		return req_fail(r, 404, "not_found", "no such member");
	return resp_json(r, 200, jarena(r->a, member_json(res, 0)));
}
