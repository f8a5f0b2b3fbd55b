/*
 * admin.c - what the admin handlers share: the audit trail and the actor.
 *
 * Every admin action that changes something writes one admin_audit row in
 * the same transaction as the change, with the row before and after as
 * JSON; reading a user's conversations is audited too.
 */
#include <string.h>

#include "lexar.h"
#include "util.h"

static struct db_stmt st_audit = DB_STMT(
    "INSERT INTO admin_audit (actor, action, target_type, target_id, before,"
    " after, request_id) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7)");

const char *
admin_actor(struct req *r)
{
	return r->auth.admin_key ? "admin-key" : r->auth.user_id;
}

int
admin_audit(struct req *r, const char *action, const char *type,
    const char *target, const char *before, const char *after)
{
	const char *p[7] = { admin_actor(r), action, type, target, before, after,
	    r->request_id };

	return req_db(r, &st_audit, 7, p) != NULL ? 0 : -1;
}
