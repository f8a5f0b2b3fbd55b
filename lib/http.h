/*
 * http.h - one request: its FastCGI parameters, body, response and errors.
 *
 * Lifetime: everything hanging off a struct req lives in r->a (the request
 * arena) unless said otherwise, and is gone after the response is written.
 *
 * Error convention: functions return 0 on success and -1 on failure after
 * recording {status, code, message} with req_fail() (or one of its
 * shorthands). The dispatcher renders the recorded error as
 *   {"error":{"code":"...","message":"...","request_id":"...","fields":{...}}}
 * in one place; a handler that returns -1 without recording anything gets
 * 500 internal_error. Internal details (SQL, library messages) go to the
 * log with the request id, never to the client.
 */
#ifndef LEXAR_HTTP_H
#define LEXAR_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <libpq-fe.h>

#include "arena.h"
#include "buf.h"
#include "db.h"
#include "json.h"
#include "router.h"

/* How the request talks to its client (FastCGI streams in the server). */
struct req_io {
	/* Read up to n body bytes; 0 at end, -1 on error. */
	ssize_t	(*read)(void *ctx, char *p, size_t n);
	/* Write n bytes; 0 or -1 (client gone). */
	int	(*write)(void *ctx, const char *p, size_t n);
	/* Push written bytes to the client now; 0 or -1. */
	int	(*flush)(void *ctx);
	void	*ctx;
};

struct auth {
	const char	*user_id;	/* NULL when anonymous */
	const char	*org_id;
	const char	*role;		/* "user" | "admin" */
	const char	*session_id;
	const char	*api_key_id;
	const char	*scopes;	/* of the API key: "llm,read" */
	bool		 admin_key;	/* authenticated by ADMIN_API_KEY */
};

struct req {
	struct arena		*a;
	struct req_io		 io;
	char			**env;		/* FastCGI params, NULL-terminated */

	/* Request, from the FastCGI params. */
	int			 method;	/* M_*; 0 if unknown */
	const char		*method_str;
	const char		*path;		/* $uri: decoded, normalised by nginx */
	const char		*query;		/* raw QUERY_STRING, "" if none */
	const char		*request_id;
	const char		*remote_addr;
	const char		*content_type;	/* "" if none */
	long long		 content_length;	/* -1 if none */
	const char		*pool;		/* "api" | "llm" */

	/* Body (read by the dispatcher when the route takes one). */
	char			*body;
	size_t			 body_len;
	json_object		*json;		/* parsed body object, or NULL */

	/* Routing. */
	const struct route	*route;
	int			 route_index;	/* -1 when unmatched */
	struct route_match	 match;

	struct auth		 auth;
	struct jv		 v;		/* field errors (422) */

	/* Response. */
	int			 status;
	const char		*resp_type;	/* Content-Type */
	struct buf		*hdr;		/* extra "Name: value\r\n" lines */
	struct buf		*out;		/* body */
	bool			 headers_sent;	/* streaming started */
	bool			 client_gone;

	/* Recorded error. */
	const char		*err_code;
	const char		*err_msg;
	const char		*internal;	/* for the log only */

	/* Database. */
	struct db_conn		*db;
	char			 sqlstate[6];
	/*
	 * A check still owed before anything else touches the database (the
	 * session behind an access token). It runs in the same round trip as
	 * the request's first statement, and that statement is not executed
	 * if it fails. It raises SQLSTATE LX401 (-> 401 invalid_token) or
	 * LX403 (-> 403 account_banned, message = reason).
	 */
	struct db_stmt		*guard;
	const char		*guard_params[4];
	int			 guard_n;

	bool			 cursor_used;	/* req_page saw a ?cursor */

	struct req_deferred	*deferred;	/* req_defer, in order */

	int64_t			 t_start_us;
};

/*
 * Fill r from FastCGI params. env and the strings it points to must
 * outlive the request. Never fails: missing params get safe defaults and
 * a request id is generated when nginx did not pass a valid one.
 */
void		 req_init(struct req *r, struct arena *a, char **env,
		    struct buf *hdr, struct buf *out, const struct req_io *io);
void		 req_done(struct req *r);	/* release DB, free jv */
/* Copy what the log line needs into the arena; r->env is gone after. */
void		 req_detach_env(struct req *r);
/*
 * Work for after the response has gone, and only when it succeeded
 * (status < 400): sending e-mail, so no answer waits for a mail server and
 * its timing does not tell whether one was sent. arg lives in r->a; no
 * database connection is held then. Runs in the order deferred.
 */
void		 req_defer(struct req *r, void (*fn)(struct req *, void *), void *arg);
void		 req_run_deferred(struct req *r);

/* A FastCGI param or an HTTP header ("Authorization"); NULL if absent. */
const char	*req_param(const struct req *r, const char *name);
const char	*req_header(struct req *r, const char *name);
/* Percent-decoded query parameter; NULL if absent or not valid UTF-8. */
const char	*req_query(struct req *r, const char *name);
/* Path parameter by name (":id" -> "id"); NULL if the route has none. */
const char	*req_path_param(const struct req *r, const char *name);
bool		 req_is_local(const struct req *r);

/* Read the body: 413 if over max, 400 on I/O error. 0 or -1. */
int		 req_read_body(struct req *r, size_t max);
/* Parse the body as a JSON object (415/400). 0 or -1. */
int		 req_parse_json(struct req *r, bool required);
/* Discard unread body bytes (before answering early). */
void		 req_drain_body(struct req *r);

/* Errors: always return -1 so handlers can `return req_fail(...)`. */
int		 req_fail(struct req *r, int status, const char *code,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int		 req_invalid(struct req *r);	/* 422 from r->v */
int		 req_internal(struct req *r, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
bool		 req_failed(const struct req *r);

/* Responses. */
int		 resp_json(struct req *r, int status, json_object *o);
int		 resp_raw(struct req *r, int status, const char *type,
		    const char *body, size_t len);
void		 resp_header(struct req *r, const char *name, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* Start a streamed response (headers go out now); then write/flush. */
int		 resp_stream_begin(struct req *r, int status, const char *type);
int		 resp_stream_write(struct req *r, const char *p, size_t n);
/* Write status line, headers and body (or the recorded error). */
void		 resp_finish(struct req *r);

/*
 * Database access for handlers. The connection is taken from the pool on
 * first use and given back by req_db_release() or at the end of the request.
 * On failure the error is recorded (503 database_unavailable, or 500) and
 * NULL / -1 returned; r->sqlstate tells a handler what failed so that it can
 * record a better error (e.g. 409 on 23505).
 */
PGresult	*req_db(struct req *r, struct db_stmt *st, int n,
		    const char *const *params);
int		 req_db_begin(struct req *r);
/*
 * For hot paths: st performs the pending session check itself. Its first
 * four parameters are the guard's ($1 session, $2 user, $3 org, $4 role;
 * with no check pending - an API key caller - $1 is NULL and $2..$4 come
 * from r->auth) and params follow as $5...; it must raise LX401 / LX403
 * exactly like auth_session.
 */
PGresult	*req_db_guarding(struct req *r, struct db_stmt *st, int n,
		    const char *const *params);
/* Run a pending guard on its own (before an outbound call, or when the
 * handler used no database). 0 or -1 with the error recorded. */
int		 req_auth_confirm(struct req *r);
int		 req_db_commit(struct req *r);
void		 req_db_release(struct req *r);
#define SQLSTATE_UNIQUE		"23505"
#define SQLSTATE_FK		"23503"
#define SQLSTATE_CHECK		"23514"

/*
 * Cursor pagination: ?limit=N (1..max, default def) and ?cursor=opaque.
 * The cursor carries the sort key of the last row seen: (ts, id) where id
 * is a UUID or a positive integer (the row's primary key) and ts
 * is the row's sort key as text (a timestamptz as PostgreSQL prints it, or
 * an e-mail address...); it only ever reaches SQL as a bound parameter. p->ts / p->id are NULL
 * on the first page. Queries fetch p->fetch (limit + 1) rows: one more than
 * shown tells that there is a next page. 0, or -1 with 422 recorded.
 */
struct page {
	long		 limit;
	const char	*ts;
	const char	*id;
	char		 fetch[24];	/* limit + 1, as an SQL parameter */
};
int		 req_page(struct req *r, struct page *p, long def, long max);
/* Opaque cursor for (ts, id), in the arena. */
char		*page_cursor(struct arena *a, const char *ts, const char *id);

const char	*http_status_text(int status);

#endif
