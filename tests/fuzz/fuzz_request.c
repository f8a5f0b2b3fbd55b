/*
 * fuzz_request.c - FastCGI params + body -> struct req -> response.
 * Input: NUL-separated "NAME=value" params, then "\0\0", then the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

struct fio {
	const uint8_t	*in;
	size_t		 n, pos;
	size_t		 written;
};

static ssize_t
f_read(void *ctx, char *p, size_t n)
{
	struct fio *f = ctx;

	if (n > f->n - f->pos)
		n = f->n - f->pos;
	memcpy(p, f->in + f->pos, n);
	f->pos += n;
	return (ssize_t)n;
}

static int
f_write(void *ctx, const char *p, size_t n)
{
	(void)p;
	((struct fio *)ctx)->written += n;
	return 0;
}

static int
f_flush(void *ctx)
{
	(void)ctx;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena	 a;
	struct buf	 hdr = BUF_INIT, out = BUF_INIT;
	struct req	 r;
	struct req_io	 io = { f_read, f_write, f_flush, NULL };
	struct fio	 f;
	char		*copy, *env[64], *p, *end;
	size_t		 n = 0, body_off = size;

	copy = malloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (p = copy, end = copy + size; p < end && n < 63;) {
		size_t len = strnlen(p, (size_t)(end - p));

		if (len == 0) {
			body_off = (size_t)(p - copy) + 1;
			break;
		}
		env[n++] = p;
		p += len + 1;
	}
	env[n] = NULL;
	if (body_off > size)
		body_off = size;
	f.in = data + body_off;
	f.n = size - body_off;
	f.pos = 0;
	f.written = 0;
	io.ctx = &f;

	arena_init(&a);
	req_init(&r, &a, env, &hdr, &out, &io);
	(void)req_header(&r, "Authorization");
	(void)req_query(&r, "cursor");
	(void)req_query(&r, "limit");
	if (req_read_body(&r, 4096) == 0 && req_parse_json(&r, false) == 0 &&
	    r.json != NULL)
		json_object_object_length(r.json);
	resp_header(&r, "X-Test", "%s", r.path);
	resp_finish(&r);
	req_done(&r);
	arena_free(&a);
	buf_free(&hdr);
	buf_free(&out);
	free(copy);
	return 0;
}
