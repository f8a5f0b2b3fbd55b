/*
 * metrics.c - shared-memory counters and the Prometheus text format.
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "metrics.h"
#include "router.h"

#define METRICS_MAGIC		0x4c4558414d455431ULL	/* "LEXAMET1" */
#define METRICS_VERSION		2
#define METRICS_MAX_ROUTES	256
#define METRICS_MAX_PROCS	64
#define METRICS_PATTERN		96

static const int status_codes[] = {
	200, 201, 202, 204, 301, 302, 303, 304, 400, 401, 402, 403, 404, 405,
	409, 410, 413, 415, 422, 429, 500, 502, 503, 504,
};
#define NSTATUS		(sizeof(status_codes) / sizeof(status_codes[0]) + 1)

/* Upper bounds in microseconds; the last bucket is +Inf. */
static const int64_t buckets_us[] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 30000000, 60000000,
};
#define NBUCKETS	(sizeof(buckets_us) / sizeof(buckets_us[0]))

static const char *const upstream_names[UP_COUNT] = {
	"openrouter", "openai", "anthropic", "gemini", "grok",
	"openai_compatible", "stripe", "smtp", "google", "telegram",
	"moderation",
};
static const char *const outcome_names[OUT_COUNT] = {
	"ok", "http_4xx", "rate_limited", "http_5xx", "timeout",
	"connect_error", "bad_response",
};

struct m_route {
	char			method[8];
	char			pattern[METRICS_PATTERN];
	_Atomic uint64_t	status[NSTATUS];
	_Atomic uint64_t	bucket[NBUCKETS];	/* non-cumulative */
	_Atomic uint64_t	sum_us;
};

struct m_proc {
	_Atomic int		pid;
	_Atomic int		db_size;
	_Atomic int		db_in_use;
	_Atomic int		db_open;
};

struct m_shm {
	uint64_t		magic;
	uint32_t		version;
	uint32_t		nroutes;
	char			pool[16];
	_Atomic uint64_t	restarts;
	struct m_route		routes[METRICS_MAX_ROUTES + 1];	/* last: unmatched */
	_Atomic uint64_t	up_count[UP_COUNT][OUT_COUNT];
	_Atomic uint64_t	up_sum_us[UP_COUNT];
	struct m_proc		procs[METRICS_MAX_PROCS];
};

static struct m_shm	*shm;
static int		 my_slot = -1;

const char *
upstream_name(enum upstream up)
{
	return up < UP_COUNT ? upstream_names[up] : "unknown";
}

int
metrics_open(const char *run_dir, const char *pool, const struct route *routes,
    int nroutes)
{
	char		 path[4096];
	struct stat	 st;
	struct m_shm	*m;
	int		 fd, i;
	bool		 fresh;

	if (nroutes > METRICS_MAX_ROUTES)
		nroutes = METRICS_MAX_ROUTES;
	snprintf(path, sizeof(path), "%s/metrics-%s.shm", run_dir, pool);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || (st.st_size != (off_t)sizeof(*m) &&
	    ftruncate(fd, 0) != 0) || ftruncate(fd, sizeof(*m)) != 0) {
		close(fd);
		return -1;
	}
	m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -1;
	/* A file from another build or layout starts over. */
	fresh = m->magic != METRICS_MAGIC || m->version != METRICS_VERSION ||
	    m->nroutes != (uint32_t)nroutes;
	for (i = 0; !fresh && i < nroutes; i++)
		fresh = strcmp(m->routes[i].pattern, routes[i].pattern) != 0 ||
		    strcmp(m->routes[i].method, method_name(routes[i].method)) != 0;
	if (fresh) {
		memset(m, 0, sizeof(*m));
		m->version = METRICS_VERSION;
		m->nroutes = (uint32_t)nroutes;
		snprintf(m->pool, sizeof(m->pool), "%s", pool);
		for (i = 0; i < nroutes; i++) {
			snprintf(m->routes[i].method, sizeof(m->routes[i].method),
			    "%s", method_name(routes[i].method));
			snprintf(m->routes[i].pattern, METRICS_PATTERN, "%s",
			    routes[i].pattern);
		}
		m->magic = METRICS_MAGIC;
	}
	/* Process slots belong to the processes alive now. */
	memset(m->procs, 0, sizeof(m->procs));
	shm = m;
	return 0;
}

void
metrics_close(void)
{
	if (shm != NULL)
		munmap(shm, sizeof(*shm));
	shm = NULL;
}

void
metrics_set_slot(int slot, int pid)
{
	if (shm == NULL || slot < 0 || slot >= METRICS_MAX_PROCS)
		return;
	my_slot = slot;
	atomic_store(&shm->procs[slot].pid, pid);
}

void
metrics_clear_slot(int slot)
{
	if (shm == NULL || slot < 0 || slot >= METRICS_MAX_PROCS)
		return;
	atomic_store(&shm->procs[slot].pid, 0);
	atomic_store(&shm->procs[slot].db_size, 0);
	atomic_store(&shm->procs[slot].db_in_use, 0);
	atomic_store(&shm->procs[slot].db_open, 0);
}

void
metrics_worker_restart(void)
{
	if (shm != NULL)
		atomic_fetch_add(&shm->restarts, 1);
}

static size_t
status_index(int status)
{
	size_t i;

	for (i = 0; i < NSTATUS - 1; i++)
		if (status_codes[i] == status)
			return i;
	return NSTATUS - 1;
}

void
metrics_request(int route, int status, int64_t duration_us)
{
	struct m_route	*r;
	size_t		 b;

	if (shm == NULL)
		return;
	if (route < 0 || route >= (int)shm->nroutes)
		route = METRICS_MAX_ROUTES;
	r = &shm->routes[route];
	atomic_fetch_add_explicit(&r->status[status_index(status)], 1,
	    memory_order_relaxed);
	for (b = 0; b < NBUCKETS && duration_us > buckets_us[b]; b++)
		;
	if (b < NBUCKETS)
		atomic_fetch_add_explicit(&r->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->sum_us, (uint64_t)duration_us,
	    memory_order_relaxed);
}

void
metrics_upstream(enum upstream up, enum upstream_outcome out,
    int64_t duration_us)
{
	if (shm == NULL || up >= UP_COUNT || out >= OUT_COUNT)
		return;
	atomic_fetch_add_explicit(&shm->up_count[up][out], 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&shm->up_sum_us[up], (uint64_t)duration_us,
	    memory_order_relaxed);
}

void
metrics_db_pool(int size, int in_use, int open)
{
	if (shm == NULL || my_slot < 0)
		return;
	atomic_store_explicit(&shm->procs[my_slot].db_size, size,
	    memory_order_relaxed);
	atomic_store_explicit(&shm->procs[my_slot].db_in_use, in_use,
	    memory_order_relaxed);
	atomic_store_explicit(&shm->procs[my_slot].db_open, open,
	    memory_order_relaxed);
}

static void
label_escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			buf_addch(b, '\\');
		if (*s == '\n') {
			buf_adds(b, "\\n");
			continue;
		}
		buf_addch(b, *s);
	}
}

static void
route_labels(struct buf *b, const struct m_shm *m, int i)
{
	buf_adds(b, "pool=\"");
	label_escape(b, m->pool);
	if (i == METRICS_MAX_ROUTES) {
		buf_adds(b, "\",method=\"\",route=\"unmatched\"");
		return;
	}
	buf_adds(b, "\",method=\"");
	label_escape(b, m->routes[i].method);
	buf_adds(b, "\",route=\"");
	label_escape(b, m->routes[i].pattern);
	buf_addch(b, '"');
}

static bool
route_used(const struct m_route *r)
{
	size_t i;

	for (i = 0; i < NSTATUS; i++)
		if (atomic_load(&r->status[i]) != 0)
			return true;
	return false;
}

static void
render_requests(struct buf *b, const struct m_shm *m)
{
	int	 i;
	size_t	 s;
	uint64_t v;

	for (i = 0; i <= METRICS_MAX_ROUTES; i++) {
		if (i < METRICS_MAX_ROUTES && i >= (int)m->nroutes)
			continue;
		for (s = 0; s < NSTATUS; s++) {
			if ((v = atomic_load(&m->routes[i].status[s])) == 0)
				continue;
			buf_adds(b, "lexar_http_requests_total{");
			route_labels(b, m, i);
			if (s == NSTATUS - 1)
				buf_adds(b, ",status=\"other\"}");
			else
				buf_printf(b, ",status=\"%d\"}", status_codes[s]);
			buf_printf(b, " %llu\n", (unsigned long long)v);
		}
	}
}

static void
render_latency(struct buf *b, const struct m_shm *m)
{
	const struct m_route	*r;
	uint64_t		 cum, total;
	size_t			 k;
	int			 i;

	for (i = 0; i <= METRICS_MAX_ROUTES; i++) {
		if (i < METRICS_MAX_ROUTES && i >= (int)m->nroutes)
			continue;
		r = &m->routes[i];
		if (!route_used(r))
			continue;
		for (total = 0, k = 0; k < NSTATUS; k++)
			total += atomic_load(&r->status[k]);
		for (cum = 0, k = 0; k < NBUCKETS; k++) {
			cum += atomic_load(&r->bucket[k]);
			buf_adds(b, "lexar_http_request_duration_seconds_bucket{");
			route_labels(b, m, i);
			buf_printf(b, ",le=\"%g\"} %llu\n",
			    (double)buckets_us[k] / 1e6, (unsigned long long)cum);
		}
		buf_adds(b, "lexar_http_request_duration_seconds_bucket{");
		route_labels(b, m, i);
		buf_printf(b, ",le=\"+Inf\"} %llu\n", (unsigned long long)total);
		buf_adds(b, "lexar_http_request_duration_seconds_sum{");
		route_labels(b, m, i);
		buf_printf(b, "} %.6f\n", (double)atomic_load(&r->sum_us) / 1e6);
		buf_adds(b, "lexar_http_request_duration_seconds_count{");
		route_labels(b, m, i);
		buf_printf(b, "} %llu\n", (unsigned long long)total);
	}
}

static void
render_pool(struct buf *b, const struct m_shm *m, int section)
{
	int	i, n = 0, size = 0, used = 0, open = 0, u, o;
	uint64_t v;

	switch (section) {
	case 0:
		render_requests(b, m);
		break;
	case 1:
		render_latency(b, m);
		break;
	case 2:
		for (i = 0; i < METRICS_MAX_PROCS; i++) {
			if (atomic_load(&m->procs[i].pid) == 0)
				continue;
			n++;
			size += atomic_load(&m->procs[i].db_size);
			used += atomic_load(&m->procs[i].db_in_use);
			open += atomic_load(&m->procs[i].db_open);
		}
		buf_printf(b, "lexar_db_pool_connections{pool=\"%s\",state=\"in_use\"} %d\n",
		    m->pool, used);
		buf_printf(b, "lexar_db_pool_connections{pool=\"%s\",state=\"open\"} %d\n",
		    m->pool, open);
		buf_printf(b, "lexar_db_pool_connections{pool=\"%s\",state=\"max\"} %d\n",
		    m->pool, size);
		break;
	case 3:
		for (i = 0, n = 0; i < METRICS_MAX_PROCS; i++)
			n += atomic_load(&m->procs[i].pid) != 0;
		buf_printf(b, "lexar_worker_processes{pool=\"%s\"} %d\n", m->pool, n);
		break;
	case 4:
		buf_printf(b, "lexar_worker_restarts_total{pool=\"%s\"} %llu\n",
		    m->pool, (unsigned long long)atomic_load(&m->restarts));
		break;
	case 5:
		for (u = 0; u < UP_COUNT; u++)
			for (o = 0; o < OUT_COUNT; o++)
				if ((v = atomic_load(&m->up_count[u][o])) != 0)
					buf_printf(b, "lexar_upstream_requests_total{pool=\"%s\","
					    "provider=\"%s\",outcome=\"%s\"} %llu\n", m->pool,
					    upstream_names[u], outcome_names[o],
					    (unsigned long long)v);
		break;
	case 6:
		for (u = 0; u < UP_COUNT; u++)
			if ((v = atomic_load(&m->up_sum_us[u])) != 0)
				buf_printf(b, "lexar_upstream_request_seconds_total{"
				    "pool=\"%s\",provider=\"%s\"} %.6f\n", m->pool,
				    upstream_names[u], (double)v / 1e6);
		break;
	}
}

static const char *const sections[][2] = {
	{ "lexar_http_requests_total", "counter\n# HELP lexar_http_requests_total HTTP requests by route and status." },
	{ "lexar_http_request_duration_seconds", "histogram\n# HELP lexar_http_request_duration_seconds Time from accept to the last byte written." },
	{ "lexar_db_pool_connections", "gauge\n# HELP lexar_db_pool_connections PostgreSQL connections of the pool's processes." },
	{ "lexar_worker_processes", "gauge\n# HELP lexar_worker_processes Worker processes alive." },
	{ "lexar_worker_restarts_total", "counter\n# HELP lexar_worker_restarts_total Workers replaced after dying." },
	{ "lexar_upstream_requests_total", "counter\n# HELP lexar_upstream_requests_total Outbound calls by provider and outcome." },
	{ "lexar_upstream_request_seconds_total", "counter\n# HELP lexar_upstream_request_seconds_total Total time spent in outbound calls." },
};

void
metrics_render(struct buf *b, const char *run_dir)
{
	static const char *const pools[] = { "api", "llm" };
	const struct m_shm	*maps[2] = { NULL, NULL };
	char			 path[4096];
	struct stat		 st;
	size_t			 s;
	int			 i, fd;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/metrics-%s.shm", run_dir, pools[i]);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		if (fstat(fd, &st) == 0 && st.st_size == (off_t)sizeof(struct m_shm)) {
			maps[i] = mmap(NULL, sizeof(struct m_shm), PROT_READ,
			    MAP_SHARED, fd, 0);
			if (maps[i] == MAP_FAILED || maps[i]->magic != METRICS_MAGIC ||
			    maps[i]->version != METRICS_VERSION) {
				if (maps[i] != MAP_FAILED)
					munmap((void *)maps[i], sizeof(struct m_shm));
				maps[i] = NULL;
			}
		}
		close(fd);
	}
	for (s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		buf_printf(b, "# TYPE %s %s\n", sections[s][0], sections[s][1]);
		for (i = 0; i < 2; i++)
			if (maps[i] != NULL)
				render_pool(b, maps[i], (int)s);
	}
	for (i = 0; i < 2; i++)
		if (maps[i] != NULL)
			munmap((void *)maps[i], sizeof(struct m_shm));
}
