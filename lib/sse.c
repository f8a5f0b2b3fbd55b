/*
 * sse.c - Server-Sent Events parser.
 */
#include <string.h>

#include "sse.h"

void
sse_init(struct sse *s, sse_event_fn fn, void *ctx)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->line);
	buf_init(&s->event);
	buf_init(&s->data);
	s->on_event = fn;
	s->ctx = ctx;
}

void
sse_free(struct sse *s)
{
	buf_free(&s->line);
	buf_free(&s->event);
	buf_free(&s->data);
}

static int
dispatch(struct sse *s)
{
	int rc = 0;

	if (s->has_data)
		rc = s->on_event(s->ctx, s->event.len ? s->event.data : "message",
		    s->data.data, s->data.len);
	buf_reset(&s->event);
	buf_reset(&s->data);
	s->has_data = 0;
	return rc;
}

/* One complete line (without its end). */
static int
line(struct sse *s, const char *p, size_t n)
{
	const char	*colon, *v;
	size_t		 flen, vlen;

	if (n == 0)
		return dispatch(s);
	if (p[0] == ':')
		return 0;
	colon = memchr(p, ':', n);
	flen = colon ? (size_t)(colon - p) : n;
	v = colon ? colon + 1 : p + n;
	vlen = colon ? n - flen - 1 : 0;
	if (vlen > 0 && *v == ' ')
		v++, vlen--;
	if (flen == 4 && memcmp(p, "data", 4) == 0) {
		if (s->data.len + vlen + 1 > SSE_MAX_EVENT)
			return -1;
		if (s->has_data)
			buf_addch(&s->data, '\n');
		buf_add(&s->data, v, vlen);
		s->has_data = 1;
	} else if (flen == 5 && memcmp(p, "event", 5) == 0) {
		buf_reset(&s->event);
		buf_add(&s->event, v, vlen > 128 ? 128 : vlen);
	}
	return 0;
}

int
sse_feed(struct sse *s, const char *p, size_t n)
{
	size_t i, start = 0;

	if (s->failed)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] != '\n' && p[i] != '\r') {
			s->cr = 0;
			continue;
		}
		if (p[i] == '\n' && s->cr) {	/* the LF of a CRLF */
			s->cr = 0;
			start = i + 1;
			continue;
		}
		s->cr = p[i] == '\r';
		buf_add(&s->line, p + start, i - start);
		if (line(s, s->line.data, s->line.len) != 0) {
			s->failed = 1;
			return -1;
		}
		buf_reset(&s->line);
		start = i + 1;
	}
	buf_add(&s->line, p + start, n - start);
	if (s->line.len > SSE_MAX_EVENT) {
		s->failed = 1;
		return -1;
	}
	return 0;
}
