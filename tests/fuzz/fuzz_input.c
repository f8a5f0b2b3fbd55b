/*
 * fuzz_input.c - small parsers of request values: e-mail normalisation,
 * the pagination cursor and the query string around it.
 * Input: byte 0 picks the parser, the rest is the value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lexar.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena	 a;
	struct buf	 hdr = BUF_INIT, out = BUF_INIT;
	struct req	 r;
	struct page	 pg;
	char		*s, *env[3], *e;

	if (size < 1 || size > 4096)
		return 0;
	arena_init(&a);
	s = arena_strndup(&a, (const char *)data + 1, size - 1);
	if (data[0] & 1) {
		e = acct_email_normalize(&a, s);
		if (e != NULL && (strchr(e, '@') == NULL || strlen(e) > 254 ||
		    !utf8_valid(e, strlen(e))))
			abort();
	} else {
		env[0] = arena_sprintf(&a, "QUERY_STRING=%s", s);
		env[1] = "REQUEST_METHOD=GET";
		env[2] = NULL;
		req_init(&r, &a, env, &hdr, &out, NULL);
		if (req_page(&r, &pg, 20, 100) == 0 && pg.ts != NULL &&
		    (pg.id == NULL || strlen(pg.fetch) == 0))
			abort();
		req_done(&r);
	}
	arena_free(&a);
	buf_free(&hdr);
	buf_free(&out);
	return 0;
}
