/*
 * accounts.c - what several account handlers share: e-mail and password
 * rules, sessions and token pairs, the user representation, one-time
 * tokens sent by e-mail, and the admin created at start.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "lexar.h"
#include "log.h"
#include "mail.h"
#include "password.h"
#include "token.h"
#include "utf8.h"
#include "util.h"

static struct db_stmt st_session_new = DB_STMT(
    "WITH s AS (INSERT INTO sessions (user_id, org_id, expires_at, user_agent, ip)"
    " VALUES ($1, $2, now() + make_interval(secs => $3::int), $4, $5)"
    " RETURNING id, expires_at)"
    " INSERT INTO refresh_tokens (token_hash, session_id, expires_at)"
    " SELECT $6, s.id, s.expires_at FROM s RETURNING session_id");
static struct db_stmt st_token_new = DB_STMT(
    "INSERT INTO one_time_tokens (token_hash, purpose, user_id, expires_at)"
    " VALUES ($1, $2, $3, now() + make_interval(secs => $4::int))");

/*
 * addr-spec, ASCII: local part of dot-atom characters (1-64), a domain of
 * LDH labels with at least one dot (1-253). Trimmed by the caller; the
 * domain is lower-cased. Returns the normalised address or NULL.
 */
char *
acct_email_normalize(struct arena *a, const char *in)
{
	const char	*at = strrchr(in, '@'), *p;
	size_t		 llen, dlen, lab = 0;
	char		*out;
	bool		 dot = false;

	if (in == NULL || at == NULL || strchr(in, '@') != at)
		return NULL;
	llen = (size_t)(at - in);
	dlen = strlen(at + 1);
	if (llen < 1 || llen > 64 || dlen < 3 || dlen > 253 || llen + dlen + 1 > 254)
		return NULL;
	if (in[0] == '.' || at[-1] == '.' || strstr(in, "..") != NULL)
		return NULL;
	for (p = in; p < at; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".!#$%&'*+/=?^_`{|}~-", *p))
			return NULL;
	for (p = at + 1; *p != '\0'; p++) {
		if (*p == '.') {
			if (lab == 0 || p[-1] == '-')
				return NULL;
			dot = true;
			lab = 0;
		} else if (isalnum((unsigned char)*p) || (*p == '-' && lab > 0)) {
			if (++lab > 63)
				return NULL;
		} else
			return NULL;
	}
	if (!dot || lab == 0 || p[-1] == '-')
		return NULL;
	out = arena_strdup(a, in);
	for (char *d = out + llen + 1; *d != '\0'; d++)
		*d = (char)tolower((unsigned char)*d);
	return out;
}

/* Password policy: 10-256 characters, not the e-mail address. */
void
acct_password_check(struct req *r, const char *field, const char *pw,
    const char *email)
{
	size_t n;

	if (pw == NULL)
		return;
	n = utf8_count(pw, strlen(pw));
	if (n < 10)
		jv_error(&r->v, field, "must be at least 10 characters");
	else if (n > 256)
		jv_error(&r->v, field, "must be at most 256 characters");
	else if (email != NULL && strcasecmp(pw, email) == 0)
		jv_error(&r->v, field, "must not be your e-mail address");
}

/* Add a new access token for (user, org, role, session) to out. */
int
acct_access_token(struct req *r, const char *user_id, const char *org_id,
    const char *role, const char *session_id, json_object *out)
{
	struct token_claims	 c = { .sub = user_id, .org = org_id,
				    .role = role, .sid = session_id };
	char			*tok;

	if ((tok = token_issue(r->a, &c)) == NULL)
		return req_internal(r, "cannot sign an access token");
	json_object_object_add(out, "access_token", json_object_new_string(tok));
	json_object_object_add(out, "token_type", json_object_new_string("Bearer"));
	json_object_object_add(out, "expires_in", json_object_new_int64(c.exp - c.iat));
	return 0;
}

/* A new session (login) and its first token pair, added to out. */
int
acct_session_new(struct req *r, const char *user_id, const char *org_id,
    const char *role, json_object *out)
{
	const char	*p[6];
	char		*refresh, *hash, life[24];
	const char	*ua = req_header(r, "User-Agent");
	PGresult	*res;

	refresh = token_random(r->a, "lxr_", 32, &hash);
	snprintf(life, sizeof(life), "%ld", cfg.jwt_refresh_expires_s);
	p[0] = user_id;
	p[1] = org_id;
	p[2] = life;
	p[3] = ua != NULL && utf8_valid(ua, strnlen(ua, 300)) ?
	    arena_strndup(r->a, ua, strnlen(ua, 300)) : "";
	p[4] = r->remote_addr;
	p[5] = hash;
	if ((res = req_db(r, &st_session_new, 6, p)) == NULL)
		return -1;
	if (acct_access_token(r, user_id, org_id, role, PQgetvalue(res, 0, 0), out) != 0)
		return -1;
	json_object_object_add(out, "refresh_token", json_object_new_string(refresh));
	json_object_object_add(out, "refresh_expires_in",
	    json_object_new_int64(cfg.jwt_refresh_expires_s));
	return 0;
}

/* Columns: id, email, name, locale, role, email_verified, iso(created_at). */
json_object *
acct_user_json(PGresult *res, int row, int col)
{
	json_object *u = json_object_new_object();

	json_object_object_add(u, "id", jpg_str(res, row, col));
	json_object_object_add(u, "email", jpg_str(res, row, col + 1));
	json_object_object_add(u, "name", jpg_str(res, row, col + 2));
	json_object_object_add(u, "locale", jpg_str(res, row, col + 3));
	json_object_object_add(u, "role", jpg_str(res, row, col + 4));
	json_object_object_add(u, "email_verified", jpg_bool(res, row, col + 5));
	json_object_object_add(u, "created_at", jpg_time(res, row, col + 6));
	return u;
}

/*
 * Make a one-time token for user (purpose "verify" or "reset") and mail
 * a link to it. Returns 0 when stored (sending failures are logged: the
 * user can ask again), -1 on a database error.
 */
int
acct_mail_token(struct req *r, const char *user_id, const char *email,
    const char *purpose)
{
	const char	*p[4], *subject, *path, *what;
	char		*tok, *hash, life[16];
	bool		 reset = strcmp(purpose, "reset") == 0;

	tok = token_random(r->a, "", 32, &hash);
	snprintf(life, sizeof(life), "%d", reset ? 3600 : 172800);
	p[0] = hash;
	p[1] = purpose;
	p[2] = user_id;
	p[3] = life;
	if (req_db(r, &st_token_new, 4, p) == NULL)
		return -1;
	subject = reset ? "Reset your Lexar password" : "Confirm your e-mail for Lexar";
	path = reset ? "reset-password" : "verify-email";
	what = reset ? "To choose a new password, open this link within an hour:" :
	    "To confirm your e-mail address, open this link within 48 hours:";
	mail_send(r, email, subject, arena_sprintf(r->a,
	    "Hello,\n\n%s\n\n%s/%s?token=%s\n\nIf you did not ask for this, "
	    "ignore this message.\n", what, cfg.frontend_url, path, tok));
	return 0;
}

/* ---- the admin from ADMIN_EMAIL / ADMIN_PASSWORD ---- */

static int
exec_ok(PGconn *pg, const char *sql, int n, const char *const *p, PGresult **out)
{
	PGresult	*res = PQexecParams(pg, sql, n, NULL, p, NULL, NULL, 0);
	ExecStatusType	 s = PQresultStatus(res);

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		log_error("admin_bootstrap", "%s", PQresultErrorField(res,
		    PG_DIAG_MESSAGE_PRIMARY) ? PQresultErrorField(res,
		    PG_DIAG_MESSAGE_PRIMARY) : PQerrorMessage(pg));
		PQclear(res);
		return -1;
	}
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return 0;
}

/* Called once by the api pool's supervisor at start. */
int
acct_bootstrap_admin(void)
{
	struct arena	 a;
	PGconn		*pg = NULL;
	PGresult	*res = NULL;
	char		 msg[256], hash[PASSWORD_HASH_MAX];
	const char	*p[3];
	char		*email;
	int		 rc = -1, tries;

	if (*cfg.admin_email == '\0')
		return 0;
	arena_init(&a);
	if ((email = acct_email_normalize(&a, cfg.admin_email)) == NULL) {
		log_error("admin_bootstrap", "ADMIN_EMAIL is not a valid e-mail address");
		goto out;
	}
	for (tries = 0; tries < 20 && pg == NULL; tries++) {
		pg = db_connect_once(cfg.database_url, (int)cfg.db_connect_timeout_s,
		    msg, sizeof(msg));
		if (pg == NULL)
			usleep(500 * 1000);
	}
	if (pg == NULL) {
		log_error("admin_bootstrap", "database unreachable: %s", msg);
		goto out;
	}
	p[0] = email;
	if (exec_ok(pg, "SELECT id, password_hash IS NOT NULL FROM users "
	    "WHERE lower(email) = lower($1) AND deleted_at IS NULL", 1, p, &res) != 0)
		goto out;
	if (PQntuples(res) == 0) {
		if (*cfg.admin_password == '\0') {
			log_error("admin_bootstrap", "ADMIN_PASSWORD is needed to "
			    "create the admin %s", email);
			goto out;
		}
		if (password_hash(cfg.admin_password, strlen(cfg.admin_password), hash) != 0)
			goto out;
		p[1] = hash;
		if (exec_ok(pg, "SELECT * FROM create_user($1, 'Admin', $2, 'admin', "
		    "true, NULL)", 2, p, NULL) != 0)
			goto out;
		log_info("admin_bootstrap", "created the admin %s", email);
	} else {
		p[0] = PQgetvalue(res, 0, 0);
		if (exec_ok(pg, "UPDATE users SET role = 'admin', email_verified = true "
		    "WHERE id = $1 AND role <> 'admin'", 1, p, NULL) != 0)
			goto out;
		if (cfg.admin_force_reset && *cfg.admin_password != '\0') {
			if (password_hash(cfg.admin_password, strlen(cfg.admin_password),
			    hash) != 0)
				goto out;
			p[1] = hash;
			if (exec_ok(pg, "WITH u AS (UPDATE users SET password_hash = $2 "
			    "WHERE id = $1 RETURNING id) UPDATE sessions SET revoked_at = now(), "
			    "revoked_reason = 'admin password reset' WHERE user_id = "
			    "(SELECT id FROM u) AND revoked_at IS NULL", 2, p, NULL) != 0)
				goto out;
			log_info("admin_bootstrap", "reset the password of the admin %s "
			    "(ADMIN_FORCE_RESET)", email);
		}
	}
	rc = 0;
out:
	PQclear(res);
	if (pg != NULL)
		PQfinish(pg);
	arena_free(&a);
	return rc;
}

/* The free plan's daily limit is DAILY_MESSAGE_LIMIT (api pool, at start). */
int
acct_sync_free_plan(void)
{
	PGconn		*pg;
	char		 msg[256], lim[16];
	const char	*p[1] = { lim };
	int		 rc;

	if ((pg = db_connect_once(cfg.database_url, (int)cfg.db_connect_timeout_s,
	    msg, sizeof(msg))) == NULL) {
		log_error("free_plan", "database unreachable: %s", msg);
		return -1;
	}
	snprintf(lim, sizeof(lim), "%ld", cfg.daily_message_limit);
	rc = exec_ok(pg, "UPDATE plans SET daily_message_limit = $1 WHERE name = 'free'"
	    " AND daily_message_limit <> $1", 1, p, NULL);
	PQfinish(pg);
	return rc;
}
