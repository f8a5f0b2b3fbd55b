/*
 * routes.c - the map of the API. One row per endpoint:
 *   {method, pattern, handler, flags, max body (0 = server.max_body_bytes)}
 * Flags (router.h) are enforced by dispatch.c before the handler runs.
 * nginx/lexar-locations.conf decides which pool (api / llm) serves a prefix;
 * fcgi/openapi.yaml documents every row (a test keeps them in step).
 */
#include "lexar.h"

const struct route routes[] = {
	/* system */
	{ M_GET,	"/api/v1/health",	h_system_health,	0, 0 },
	{ M_GET,	"/api/v1/ready",	h_system_ready,		0, 0 },
	{ M_GET,	"/metrics",		h_system_metrics,	R_LOCAL, 0 },
};

const size_t nroutes = sizeof(routes) / sizeof(routes[0]);
