/*
 * admin.c - what the admin handlers share: the audit trail and the actor.
 *
 * Every admin action that changes something writes one admin_audit row in
 * the same transaction as the change, with the row before and after as
 * JSON; reading a user's conversations is audited too.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "lexar.h"
#include "log.h"
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

/*
 * The usage roll-up (sql/004_admin.sql, usage_rollup), run by the api
 * pool's supervisor every admin.rollup_interval_s on a connection of its
 * own. A backlog is folded in batches, one per supervisor tick, so the
 * supervisor never stops reaping workers for long. A failure drops the
 * connection, is logged once, and is retried at the next interval.
 */
#define ROLLUP_BATCH	"100000"

void
admin_rollup_tick(void)
{
	static PGconn	*pg;
	static int64_t	 next_ms;
	static bool	 failing;
	const char	*p[1] = { ROLLUP_BATCH };
	PGresult	*res;
	char		 msg[256];
	int64_t		 t = now_ms();
	bool		 more = false;

	if (cfg.rollup_interval_s <= 0 || t < next_ms)
		return;
	if (pg == NULL) {
		pg = db_connect_once(cfg.database_url, (int)cfg.db_connect_timeout_s,
		    msg, sizeof(msg));
		if (pg == NULL)
			goto failed;
		PQclear(PQexec(pg, "SET statement_timeout = '60s'"));
	}
	res = PQexecParams(pg, "SELECT usage_rollup($1)", 1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(res));
		msg[strcspn(msg, "\n")] = '\0';
		PQclear(res);
		PQfinish(pg);
		pg = NULL;
		goto failed;
	}
	more = strcmp(PQgetvalue(res, 0, 0), ROLLUP_BATCH) == 0;
	PQclear(res);
	if (failing)
		log_info("usage_rollup", "usage roll-up works again");
	failing = false;
	next_ms = more ? t : t + cfg.rollup_interval_s * 1000;
	return;
failed:
	if (!failing)
		log_error("usage_rollup", "usage roll-up failed (retrying every "
		    "%ld s): %s", cfg.rollup_interval_s, msg);
	failing = true;
	next_ms = t + cfg.rollup_interval_s * 1000;
}
