/*
 * httpc.h - outbound HTTP with libcurl.
 *
 * One easy handle per thread, reused so that connections and TLS sessions
 * are kept. TLS verification is always on, only http/https are allowed and
 * redirects are never followed. A request never holds a pooled database
 * connection while it waits on an upstream: httpc_do() gives it back first
 * (and refuses inside a transaction), and confirms the caller's session if
 * that check is still pending. Each call is counted in the metrics by
 * upstream and outcome.
 */
#ifndef LEXAR_HTTPC_H
#define LEXAR_HTTPC_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "buf.h"
#include "metrics.h"

struct req;

/* Called with each chunk of the response body as it arrives (streaming);
 * return 0 to go on, -1 to abort the transfer. */
typedef int (*httpc_chunk_fn)(void *ctx, const char *p, size_t n);

struct httpc_req {
	const char		*method;	/* "GET", "POST" */
	const char		*url;
	struct curl_slist	*headers;	/* caller frees */
	const char		*body;
	size_t			 body_len;
	long			 timeout_ms;	/* whole call */
	long			 connect_timeout_ms;
	size_t			 max_response;	/* bytes kept in resp->body */
	enum upstream		 upstream;	/* for metrics */
	httpc_chunk_fn		 on_chunk;	/* optional */
	void			*chunk_ctx;
};

struct httpc_resp {
	long		 status;	/* 0 if no HTTP response */
	struct buf	*body;		/* in the request arena, freed with it */
	char		*content_type;	/* arena; may be NULL */
	char		*retry_after;	/* arena; may be NULL */
	CURLcode	 cc;
	bool		 timed_out;
	bool		 too_large;
	bool		 aborted;	/* on_chunk returned -1 */
	char		 error[CURL_ERROR_SIZE];
	long		 duration_ms;
};

/*
 * Perform the call. Returns 0 when an HTTP response arrived (any status),
 * -1 on transport failure (resp->cc, resp->error, resp->timed_out) or
 * when the request's own checks failed (error recorded on r).
 */
int	httpc_do(struct req *r, const struct httpc_req *in, struct httpc_resp *out);
/* Classify for metrics and retries. */
enum upstream_outcome httpc_outcome(const struct httpc_resp *resp, int rc);

#endif
