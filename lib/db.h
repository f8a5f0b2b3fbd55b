/*
 * db.h - the per-process PostgreSQL connection pool and named statements.
 *
 * Invariants:
 *  - At most `size` connections per process. A request holds one only
 *    while it runs queries (db_release before any outbound HTTP call) and
 *    waiters are served strictly first come, first served.
 *  - A connection found dead (server restart, network) is closed and
 *    re-established on a later acquire; callers see an error only for the
 *    request that hit the failure.
 *  - Statements are declared once per module as `static struct db_stmt`
 *    and prepared lazily, once per connection. Parameters are always
 *    passed separately from SQL text (never interpolated).
 *  - Connections are handed out idle: not in a transaction, no pending
 *    results. db_release rolls back an open transaction.
 */
#ifndef LEXAR_DB_H
#define LEXAR_DB_H

#include <stdatomic.h>
#include <stdbool.h>

#include <libpq-fe.h>

struct db_stmt {
	const char	*sql;
	atomic_int	 id;	/* assigned on first use; 0 = not yet */
};

#define DB_STMT(text)	{ .sql = (text), .id = 0 }

struct db_conn;

enum db_err {
	DB_OK = 0,
	DB_UNAVAILABLE,		/* cannot connect / connection lost: 503 */
	DB_TIMEOUT,		/* pool exhausted for acquire_timeout: 503 */
	DB_QUERY,		/* the statement failed: sqlstate says why */
};

/* Process-wide pool; call once per process before threads start. */
int		 db_pool_init(const char *conninfo, int size, int acquire_timeout_ms,
		    int statement_timeout_ms, int connect_timeout_s);
void		 db_pool_destroy(void);
int		 db_pool_size(void);
int		 db_pool_in_use(void);
int		 db_pool_open(void);

/* NULL on failure with *err set. */
struct db_conn	*db_acquire(enum db_err *err);
void		 db_release(struct db_conn *c);

/*
 * Run a named statement. Returns the result (caller PQclear()s) or NULL
 * with *err, the SQLSTATE (5 chars + NUL, "" if none) and a message for
 * the log in msg (never shown to clients).
 */
PGresult	*db_exec(struct db_conn *c, struct db_stmt *st, int nparams,
		    const char *const *params, enum db_err *err, char sqlstate[6],
		    char *msg, size_t msglen);
/*
 * Run `guard` then `st` in one round trip (libpq pipeline mode). If guard
 * fails, st is not executed (the server skips the rest of the pipeline):
 * the error, sqlstate and message are guard's. Otherwise like db_exec()
 * for st; guard's result is discarded.
 */
PGresult	*db_exec_guarded(struct db_conn *c, struct db_stmt *guard, int gn,
		    const char *const *gparams, struct db_stmt *st, int nparams,
		    const char *const *params, enum db_err *err, char sqlstate[6],
		    char *msg, size_t msglen);
/* Simple statement without parameters ("BEGIN", "COMMIT"). 0 or -1. */
int		 db_simple(struct db_conn *c, const char *sql, enum db_err *err,
		    char *msg, size_t msglen);
bool		 db_in_tx(struct db_conn *c);

/* One connection outside the pool (migrations, admin bootstrap). */
PGconn		*db_connect_once(const char *conninfo, int connect_timeout_s,
		    char *msg, size_t msglen);

#endif
