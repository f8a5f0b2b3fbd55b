/*
 * h_system.c - health, readiness and metrics.
 */
#include <string.h>

#include "config.h"
#include "lexar.h"
#include "metrics.h"

static struct db_stmt st_ready = DB_STMT("SELECT 1");

/* GET /api/v1/health - the process answers; no database. */
int
h_system_health(struct req *r)
{
	static const char body[] = "{\"status\":\"ok\"}";

	return resp_raw(r, 200, "application/json", body, sizeof(body) - 1);
}

/* GET /api/v1/ready - one round trip to PostgreSQL. */
int
h_system_ready(struct req *r)
{
	static const char body[] = "{\"status\":\"ready\",\"database\":\"ok\"}";

	if (req_db(r, &st_ready, 0, NULL) == NULL)
		return -1;	/* 503 database_unavailable */
	return resp_raw(r, 200, "application/json", body, sizeof(body) - 1);
}

/* GET /metrics - Prometheus text format, loopback only (R_LOCAL). */
int
h_system_metrics(struct req *r)
{
	buf_reset(r->out);
	metrics_render(r->out, cfg.run_dir);
	r->status = 200;
	r->resp_type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}
