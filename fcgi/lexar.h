/*
 * lexar.h - the FastCGI program: route table, dispatcher, server, handlers.
 *
 * To find an endpoint: look it up in routes.c; its handler is named
 * h_<area>_<action> and lives in h_<area>.c.
 */
#ifndef LEXAR_FCGI_H
#define LEXAR_FCGI_H

#include <stddef.h>

#include "http.h"
#include "router.h"

extern const struct route	routes[];
extern const size_t		nroutes;

/* dispatch.c: run one request through the route table. */
void	dispatch(struct req *r);

/* server.c: supervise worker processes of one pool; returns exit code. */
int	server_run(const char *pool, const char *socket_path);

/* h_system.c */
int	h_system_health(struct req *r);
int	h_system_ready(struct req *r);
int	h_system_metrics(struct req *r);

#endif
