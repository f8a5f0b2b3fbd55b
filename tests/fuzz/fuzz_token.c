/*
 * fuzz_token.c - access token verification.
 * Byte 0 even: the rest is a token as a client would send it.
 * Byte 0 odd: the rest is "header\npayload" (raw JSON); the target encodes
 * and signs it with the key, so the header and claim checks are reached.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/hmac.h>

#include "arena.h"
#include "token.h"
#include "util.h"

#define KEY "fuzz-secret-fuzz-secret-fuzz-secret!"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 init;
	struct arena		 a;
	struct token_claims	 c;
	const char		*why, *nl;
	char			*tok, *p;
	unsigned char		 mac[32];
	unsigned int		 mlen;
	size_t			 hl, pl;

	if (!init) {
		token_init(KEY, "lexar", "lexar-api", 900);
		init = 1;
	}
	if (size < 1 || size > 8192)
		return 0;
	arena_init(&a);
	if ((data[0] & 1) == 0) {
		tok = arena_strndup(&a, (const char *)data + 1, size - 1);
	} else {
		nl = memchr(data + 1, '\n', size - 1);
		hl = nl ? (size_t)(nl - (const char *)data - 1) : size - 1;
		pl = nl ? size - 2 - hl : 0;
		tok = arena_alloc(&a, (hl + pl) * 2 + 64);
		p = tok;
		p += b64url_encode(p, data + 1, hl);
		*p++ = '.';
		p += b64url_encode(p, nl ? nl + 1 : "", pl);
		HMAC(EVP_sha256(), KEY, (int)strlen(KEY), (unsigned char *)tok,
		    (size_t)(p - tok), mac, &mlen);
		*p++ = '.';
		b64url_encode(p, mac, 32);
	}
	if (token_verify(&a, tok, &c, &why) == 0 &&
	    (c.sub == NULL || c.org == NULL || c.sid == NULL || c.role == NULL))
		abort();
	arena_free(&a);
	return 0;
}
