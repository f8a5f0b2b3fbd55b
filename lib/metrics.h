/*
 * metrics.h - Prometheus metrics shared by all processes of a pool.
 *
 * Each pool ("api", "llm") keeps its counters in a file-backed shared
 * mapping <run_dir>/metrics-<pool>.shm, created by the pool's supervising
 * process before it forks workers; workers update it with atomic adds, so
 * no request takes a lock for metrics. GET /metrics reads the files of all
 * pools and renders the Prometheus text format.
 *
 * Nothing here matters for correctness: a missing file only means missing
 * metrics.
 */
#ifndef LEXAR_METRICS_H
#define LEXAR_METRICS_H

#include <stdint.h>

struct buf;
struct route;

enum upstream {
	UP_OPENROUTER, UP_OPENAI, UP_ANTHROPIC, UP_GEMINI, UP_GROK,
	UP_OPENAI_COMPATIBLE, UP_STRIPE, UP_SMTP, UP_GOOGLE, UP_TELEGRAM,
	UP_MODERATION,
	UP_COUNT
};

enum upstream_outcome {
	OUT_OK, OUT_HTTP_4XX, OUT_RATE_LIMITED, OUT_HTTP_5XX, OUT_TIMEOUT,
	OUT_CONNECT_ERROR, OUT_BAD_RESPONSE,
	OUT_COUNT
};

/*
 * Create (or reuse, if the layout matches) the pool's file and map it.
 * Called by the supervisor before fork; workers inherit the mapping.
 */
int	metrics_open(const char *run_dir, const char *pool,
	    const struct route *routes, int nroutes);
/* Which process slot this worker updates (0..METRICS_MAX_PROCS-1). */
void	metrics_set_slot(int slot, int pid);
void	metrics_clear_slot(int slot);
void	metrics_worker_restart(void);
void	metrics_close(void);

/* route -1 = unmatched. */
void	metrics_request(int route, int status, int64_t duration_us);
void	metrics_upstream(enum upstream up, enum upstream_outcome out,
	    int64_t duration_us);
void	metrics_db_pool(int size, int in_use, int open);

/* Render every pool found in run_dir. */
void	metrics_render(struct buf *b, const char *run_dir);

const char *upstream_name(enum upstream up);

#endif
