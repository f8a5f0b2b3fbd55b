/*
 * db.c - PostgreSQL pool with FIFO hand-off, lazy prepared statements.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#define DB_MAX_STMTS		1024
#define DB_RETRY_AFTER_MS	200	/* don't hammer a server that is down */

struct db_conn {
	PGconn		*pg;
	struct db_conn	*next_free;
	int64_t		 failed_at_ms;		/* last failed connect */
	unsigned char	 prepared[DB_MAX_STMTS / 8];
};

struct waiter {
	pthread_cond_t	 cv;
	struct db_conn	*got;
	struct waiter	*next;
};

static struct {
	pthread_mutex_t	 mu;
	struct db_conn	*conns;
	struct db_conn	*free;		/* LIFO: the warmest connection first */
	struct waiter	*wq_head, *wq_tail;
	int		 size;
	int		 in_use;
	int		 open;
	int		 acquire_timeout_ms;
	char		*conninfo;
	char		 init_sql[128];
	int		 connect_timeout_s;
} pool = { .mu = PTHREAD_MUTEX_INITIALIZER };

static atomic_int next_stmt_id;

int
db_pool_init(const char *conninfo, int size, int acquire_timeout_ms,
    int statement_timeout_ms, int connect_timeout_s)
{
	int i;

	pool.conns = calloc((size_t)size, sizeof(*pool.conns));
	if (pool.conns == NULL || (pool.conninfo = strdup(conninfo)) == NULL)
		die("out of memory");
	pool.size = size;
	pool.acquire_timeout_ms = acquire_timeout_ms;
	pool.connect_timeout_s = connect_timeout_s;
	snprintf(pool.init_sql, sizeof(pool.init_sql),
	    "SET statement_timeout = %d; SET TIME ZONE 'UTC'; SET DateStyle = ISO", statement_timeout_ms);
	for (i = size - 1; i >= 0; i--) {
		pool.conns[i].next_free = pool.free;
		pool.free = &pool.conns[i];
	}
	metrics_db_pool(size, 0, 0);
	return 0;
}

void
db_pool_destroy(void)
{
	int i;

	for (i = 0; i < pool.size; i++)
		if (pool.conns[i].pg != NULL)
			PQfinish(pool.conns[i].pg);
	free(pool.conns);
	free(pool.conninfo);
	pool.conns = NULL;
	pool.conninfo = NULL;
	pool.free = NULL;
	pool.size = 0;
}

int
db_pool_size(void)
{
	return pool.size;
}

int
db_pool_in_use(void)
{
	int n;

	pthread_mutex_lock(&pool.mu);
	n = pool.in_use;
	pthread_mutex_unlock(&pool.mu);
	return n;
}

int
db_pool_open(void)
{
	int n;

	pthread_mutex_lock(&pool.mu);
	n = pool.open;
	pthread_mutex_unlock(&pool.mu);
	return n;
}

static void
stat_update(void)
{
	metrics_db_pool(pool.size, pool.in_use, pool.open);
}

static void
msgcpy(char *msg, size_t msglen, const char *s)
{
	size_t n;

	if (msglen == 0)
		return;
	snprintf(msg, msglen, "%s", s);
	/* libpq messages end with a newline */
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
}

/* Server notices (and the FATAL of a closing server) go to our log. */
static void
notice_to_log(void *arg, const char *message)
{
	size_t n = strlen(message);

	(void)arg;
	while (n > 0 && message[n - 1] == '\n')
		n--;
	log_msg(LOG_WARN, "postgres", NULL, "%.*s", (int)n, message);
}

PGconn *
db_connect_once(const char *conninfo, int connect_timeout_s, char *msg,
    size_t msglen)
{
	const char	*kw[] = { "dbname", "connect_timeout",
	    "application_name", NULL };
	const char	*val[4];
	char		 tmo[16];
	PGconn		*pg;

	snprintf(tmo, sizeof(tmo), "%d", connect_timeout_s);
	val[0] = conninfo;
	val[1] = tmo;
	val[2] = "lexar";
	val[3] = NULL;
	/* expand_dbname: conninfo may be a URI or key=value string. */
	pg = PQconnectdbParams(kw, val, 1);
	if (pg == NULL) {
		msgcpy(msg, msglen, "out of memory");
		return NULL;
	}
	if (PQstatus(pg) != CONNECTION_OK) {
		msgcpy(msg, msglen, PQerrorMessage(pg));
		PQfinish(pg);
		return NULL;
	}
	PQsetNoticeProcessor(pg, notice_to_log, NULL);
	return pg;
}

static void
conn_close(struct db_conn *c)
{
	if (c->pg == NULL)
		return;
	PQfinish(c->pg);
	c->pg = NULL;
	memset(c->prepared, 0, sizeof(c->prepared));
	pthread_mutex_lock(&pool.mu);
	pool.open--;
	stat_update();
	pthread_mutex_unlock(&pool.mu);
}

/*
 * Is an idle connection still usable? An idle connection has nothing to
 * read (Lexar uses no LISTEN): if its socket is readable, the server sent
 * something on its own, which in practice is a FATAL before it closed the
 * connection (shutdown, restart, pg_terminate_backend). Such a connection
 * is replaced. No round trip.
 */
static bool
conn_alive(struct db_conn *c)
{
	struct pollfd pfd;

	if (PQstatus(c->pg) != CONNECTION_OK)
		return false;
	pfd.fd = PQsocket(c->pg);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0 || poll(&pfd, 1, 0) < 0)
		return false;
	return pfd.revents == 0;
}


/* Make sure c has a live connection. 0 or -1 (*err, msg). */
static int
conn_ready(struct db_conn *c, enum db_err *err, char *msg, size_t msglen)
{
	PGresult	*res;
	int64_t		 t;

	if (c->pg != NULL && conn_alive(c))
		return 0;
	conn_close(c);
	t = now_ms();
	if (c->failed_at_ms != 0 && t - c->failed_at_ms < DB_RETRY_AFTER_MS) {
		*err = DB_UNAVAILABLE;
		msgcpy(msg, msglen, "database unavailable (retrying shortly)");
		return -1;
	}
	c->pg = db_connect_once(pool.conninfo, pool.connect_timeout_s, msg, msglen);
	if (c->pg == NULL) {
		c->failed_at_ms = t;
		*err = DB_UNAVAILABLE;
		return -1;
	}
	res = PQexec(c->pg, pool.init_sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		msgcpy(msg, msglen, PQerrorMessage(c->pg));
		PQclear(res);
		PQfinish(c->pg);
		c->pg = NULL;
		c->failed_at_ms = t;
		*err = DB_UNAVAILABLE;
		return -1;
	}
	PQclear(res);
	c->failed_at_ms = 0;
	pthread_mutex_lock(&pool.mu);
	pool.open++;
	stat_update();
	pthread_mutex_unlock(&pool.mu);
	return 0;
}

static void
deadline_after(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static void
queue_remove(struct waiter *w)
{
	struct waiter **pp;

	for (pp = &pool.wq_head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	pool.wq_tail = NULL;
	for (w = pool.wq_head; w != NULL; w = w->next)
		pool.wq_tail = w;
}

struct db_conn *
db_acquire(enum db_err *err)
{
	struct db_conn		*c = NULL;
	struct waiter		 w;
	pthread_condattr_t	 ca;
	struct timespec		 dl;
	char			 msg[256];
	int			 rc = 0;

	pthread_mutex_lock(&pool.mu);
	if (pool.free != NULL && pool.wq_head == NULL) {
		c = pool.free;
		pool.free = c->next_free;
	} else {
		/* FIFO: wait for a connection handed over by db_release. */
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&w.cv, &ca);
		pthread_condattr_destroy(&ca);
		w.got = NULL;
		w.next = NULL;
		if (pool.wq_tail != NULL)
			pool.wq_tail->next = &w;
		else
			pool.wq_head = &w;
		pool.wq_tail = &w;
		deadline_after(&dl, pool.acquire_timeout_ms);
		while (w.got == NULL && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&w.cv, &pool.mu, &dl);
		c = w.got;
		if (c == NULL)
			queue_remove(&w);
		pthread_cond_destroy(&w.cv);
		if (c == NULL) {
			pthread_mutex_unlock(&pool.mu);
			*err = DB_TIMEOUT;
			return NULL;
		}
	}
	pool.in_use++;
	stat_update();
	pthread_mutex_unlock(&pool.mu);

	if (conn_ready(c, err, msg, sizeof(msg)) != 0) {
		if (*err == DB_UNAVAILABLE)
			log_msg(LOG_WARN, "db_connect", NULL, "%s", msg);
		db_release(c);
		return NULL;
	}
	*err = DB_OK;
	return c;
}

void
db_release(struct db_conn *c)
{
	struct waiter	*w;
	PGresult	*res;

	if (c == NULL)
		return;
	if (c->pg != NULL) {
		if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
			res = PQexec(c->pg, "ROLLBACK");
			PQclear(res);
			if (PQtransactionStatus(c->pg) != PQTRANS_IDLE)
				conn_close(c);
		}
	}
	pthread_mutex_lock(&pool.mu);
	pool.in_use--;
	if ((w = pool.wq_head) != NULL) {
		pool.wq_head = w->next;
		if (pool.wq_head == NULL)
			pool.wq_tail = NULL;
		w->got = c;
		pool.in_use++;
		pthread_cond_signal(&w->cv);
	} else {
		c->next_free = pool.free;
		pool.free = c;
	}
	stat_update();
	pthread_mutex_unlock(&pool.mu);
}

static int
stmt_id(struct db_stmt *st)
{
	int id = atomic_load(&st->id), want;

	if (id != 0)
		return id;
	want = atomic_fetch_add(&next_stmt_id, 1) + 1;
	if (want >= DB_MAX_STMTS)
		BUG("more than %d statements", DB_MAX_STMTS);
	/* Another thread may have won; its id is as good as ours. */
	if (!atomic_compare_exchange_strong(&st->id, &id, want))
		return id;
	return want;
}

static void
fail_from(struct db_conn *c, PGresult *res, enum db_err *err, char sqlstate[6],
    char *msg, size_t msglen)
{
	const char *ss = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	snprintf(sqlstate, 6, "%s", ss ? ss : "");
	msgcpy(msg, msglen, primary ? primary : res && *PQresultErrorMessage(res) ?
	    PQresultErrorMessage(res) : c->pg ? PQerrorMessage(c->pg) :
	    "connection lost");
	if (c->pg == NULL) {
		*err = DB_UNAVAILABLE;
		return;
	}
	if (PQstatus(c->pg) != CONNECTION_OK) {
		*err = DB_UNAVAILABLE;
		conn_close(c);
	} else
		*err = DB_QUERY;
}

static bool
is_prepared(struct db_conn *c, int id)
{
	return (c->prepared[id / 8] & (1u << (id % 8))) != 0;
}

static void
set_prepared(struct db_conn *c, int id)
{
	c->prepared[id / 8] |= (unsigned char)(1u << (id % 8));
}

/* Queue (prepare if needed and) execute st in pipeline mode. */
static int
pipe_send(struct db_conn *c, struct db_stmt *st, int n, const char *const *p,
    bool *sent_prepare)
{
	char	name[16];
	int	id = stmt_id(st);

	snprintf(name, sizeof(name), "s%d", id);
	*sent_prepare = false;
	if (!is_prepared(c, id)) {
		if (!PQsendPrepare(c->pg, name, st->sql, 0, NULL))
			return -1;
		*sent_prepare = true;
	}
	return PQsendQueryPrepared(c->pg, name, n, p, NULL, NULL, 0) ? 0 : -1;
}

/*
 * Read the next result of the pipeline and the NULL that ends it.
 * Returns the result (caller clears) or NULL if the connection broke.
 */
static PGresult *
pipe_result(struct db_conn *c)
{
	PGresult *res, *end;

	res = PQgetResult(c->pg);
	if (res == NULL)
		return NULL;
	while ((end = PQgetResult(c->pg)) != NULL)
		PQclear(end);	/* single-row mode is not used: never more */
	return res;
}

PGresult *
db_exec_guarded(struct db_conn *c, struct db_stmt *guard, int gn,
    const char *const *gparams, struct db_stmt *st, int nparams,
    const char *const *params, enum db_err *err, char sqlstate[6], char *msg,
    size_t msglen)
{
	PGresult	*res, *out = NULL, *failed = NULL;
	bool		 prep[2];
	int		 i, ids[2] = { stmt_id(guard), stmt_id(st) };
	ExecStatusType	 s;

	sqlstate[0] = '\0';
	if (c->pg == NULL) {
		*err = DB_UNAVAILABLE;
		msgcpy(msg, msglen, "connection lost earlier in this request");
		return NULL;
	}
	if (!PQenterPipelineMode(c->pg) ||
	    pipe_send(c, guard, gn, gparams, &prep[0]) != 0 ||
	    pipe_send(c, st, nparams, params, &prep[1]) != 0 ||
	    !PQpipelineSync(c->pg)) {
		fail_from(c, NULL, err, sqlstate, msg, msglen);
		if (c->pg != NULL)
			conn_close(c);
		return NULL;
	}
	/* Results in order: [prepare] guard [prepare] st, then the sync. */
	for (i = 0; i < 2; i++) {
		if (prep[i]) {
			if ((res = pipe_result(c)) == NULL)
				goto broken;
			if (PQresultStatus(res) == PGRES_COMMAND_OK)
				set_prepared(c, ids[i]);
			else if (failed == NULL)
				failed = res, res = NULL;
			PQclear(res);
		}
		if ((res = pipe_result(c)) == NULL)
			goto broken;
		s = PQresultStatus(res);
		if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
			if (i == 1)
				out = res, res = NULL;
		} else if (failed == NULL && s != PGRES_PIPELINE_ABORTED)
			failed = res, res = NULL;
		PQclear(res);
	}
	res = PQgetResult(c->pg);	/* PGRES_PIPELINE_SYNC */
	if (res == NULL || PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
		PQclear(res);
		goto broken;
	}
	PQclear(res);
	PQexitPipelineMode(c->pg);
	if (failed != NULL) {
		PQclear(out);
		fail_from(c, failed, err, sqlstate, msg, msglen);
		PQclear(failed);
		return NULL;
	}
	*err = DB_OK;
	return out;
broken:
	PQclear(out);
	PQclear(failed);
	fail_from(c, NULL, err, sqlstate, msg, msglen);
	if (c->pg != NULL)
		conn_close(c);
	return NULL;
}

PGresult *
db_exec(struct db_conn *c, struct db_stmt *st, int nparams,
    const char *const *params, enum db_err *err, char sqlstate[6], char *msg,
    size_t msglen)
{
	PGresult	*res;
	char		 name[16];
	int		 id = stmt_id(st);
	ExecStatusType	 s;

	sqlstate[0] = '\0';
	if (c->pg == NULL) {
		*err = DB_UNAVAILABLE;
		msgcpy(msg, msglen, "connection lost earlier in this request");
		return NULL;
	}
	snprintf(name, sizeof(name), "s%d", id);
	if (!is_prepared(c, id)) {
		res = PQprepare(c->pg, name, st->sql, 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			fail_from(c, res, err, sqlstate, msg, msglen);
			PQclear(res);
			return NULL;
		}
		PQclear(res);
		set_prepared(c, id);
	}
	res = PQexecPrepared(c->pg, name, nparams, params, NULL, NULL, 0);
	s = PQresultStatus(res);
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		fail_from(c, res, err, sqlstate, msg, msglen);
		PQclear(res);
		return NULL;
	}
	*err = DB_OK;
	return res;
}

int
db_simple(struct db_conn *c, const char *sql, enum db_err *err, char *msg,
    size_t msglen)
{
	PGresult	*res;
	char		 ss[6];

	if (c->pg == NULL) {
		*err = DB_UNAVAILABLE;
		msgcpy(msg, msglen, "connection lost earlier in this request");
		return -1;
	}
	res = PQexec(c->pg, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fail_from(c, res, err, ss, msg, msglen);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	*err = DB_OK;
	return 0;
}

bool
db_in_tx(struct db_conn *c)
{
	return c->pg != NULL && PQtransactionStatus(c->pg) != PQTRANS_IDLE;
}
