/*
 * httpc.c - outbound HTTP calls on a per-thread libcurl handle.
 */
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "httpc.h"
#include "log.h"
#include "util.h"

static pthread_key_t	curl_key;
static pthread_once_t	curl_once = PTHREAD_ONCE_INIT;

static void
curl_free_cb(void *p)
{
	curl_easy_cleanup(p);
}

static void
make_key(void)
{
	if (pthread_key_create(&curl_key, curl_free_cb) != 0)
		die("pthread_key_create");
}

/* The calling thread's handle, reset to defaults. */
static CURL *
thread_handle(void)
{
	CURL *h;

	pthread_once(&curl_once, make_key);
	if ((h = pthread_getspecific(curl_key)) == NULL) {
		if ((h = curl_easy_init()) == NULL)
			die("curl_easy_init");
		pthread_setspecific(curl_key, h);
	} else
		curl_easy_reset(h);
	return h;
}

struct sink {
	struct httpc_resp	*resp;
	const struct httpc_req	*in;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink	*s = arg;
	size_t		 len = size * n;

	if (s->resp->body->len + len > s->in->max_response) {
		s->resp->too_large = true;
		return 0;
	}
	buf_add(s->resp->body, p, len);
	if (s->in->on_chunk != NULL && s->in->on_chunk(s->in->chunk_ctx, p, len) != 0) {
		s->resp->aborted = true;
		return 0;
	}
	return len;
}

struct hdr_sink {
	struct req		*r;
	struct httpc_resp	*resp;
};

static char *
header_value(struct arena *a, const char *line, size_t n, const char *name)
{
	size_t nl = strlen(name);

	if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return NULL;
	line += nl + 1;
	n -= nl + 1;
	while (n > 0 && (*line == ' ' || *line == '\t'))
		line++, n--;
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' '))
		n--;
	return arena_strndup(a, line, n);
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct hdr_sink	*h = arg;
	size_t		 len = size * n;
	char		*v;

	if ((v = header_value(h->r->a, p, len, "Content-Type")) != NULL)
		h->resp->content_type = v;
	else if ((v = header_value(h->r->a, p, len, "Retry-After")) != NULL)
		h->resp->retry_after = v;
	return len;
}

enum upstream_outcome
httpc_outcome(const struct httpc_resp *resp, int rc)
{
	if (rc != 0) {
		if (resp->timed_out)
			return OUT_TIMEOUT;
		if (resp->too_large)
			return OUT_BAD_RESPONSE;
		return OUT_CONNECT_ERROR;
	}
	if (resp->status == 429)
		return OUT_RATE_LIMITED;
	if (resp->status >= 500)
		return OUT_HTTP_5XX;
	if (resp->status >= 400)
		return OUT_HTTP_4XX;
	return OUT_OK;
}

int
httpc_do(struct req *r, const struct httpc_req *in, struct httpc_resp *out)
{
	struct sink	 s = { out, in };
	struct hdr_sink	 hs = { r, out };
	CURL		*h;
	int64_t		 t0;
	int		 rc;

	memset(out, 0, sizeof(*out));
	out->body = buf_arena_new(r->a);
	/* No upstream call with a side effect before the session is known. */
	if (req_auth_confirm(r) != 0)
		return -1;
	if (r->db != NULL) {
		if (db_in_tx(r->db))
			BUG("outbound call inside a database transaction");
		req_db_release(r);
	}

	h = thread_handle();
	curl_easy_setopt(h, CURLOPT_URL, in->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, in->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    in->connect_timeout_ms > 0 ? in->connect_timeout_ms : 5000L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, out->error);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &hs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "lexar/0.1");
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	if (in->headers != NULL)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, in->headers);
	if (strcmp(in->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, in->body ? in->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(in->body ? in->body_len : 0));
	} else if (strcmp(in->method, "GET") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, in->method);

	t0 = now_us();
	out->cc = curl_easy_perform(h);
	out->duration_ms = (long)((now_us() - t0) / 1000);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	out->timed_out = out->cc == CURLE_OPERATION_TIMEDOUT;
	rc = out->cc == CURLE_OK ? 0 : -1;
	if (out->cc == CURLE_WRITE_ERROR && !out->too_large && !out->aborted)
		rc = -1;
	if (out->error[0] == '\0' && out->cc != CURLE_OK)
		snprintf(out->error, sizeof(out->error), "%s", curl_easy_strerror(out->cc));
	metrics_upstream(in->upstream, httpc_outcome(out, rc), now_us() - t0);
	/* Do not keep a pointer to the caller's header list. */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	return rc;
}
