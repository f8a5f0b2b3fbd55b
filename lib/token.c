/*
 * token.c - JWT access tokens with hand-checked claims; opaque tokens.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stddef.h>
#include <strings.h>
#include <sys/types.h>

#include "arena.h"
#include "json.h"
#include "log.h"
#include "token.h"
#include "util.h"

static void mac_setup(void);

static struct {
	const unsigned char	*key;
	size_t			 keylen;
	const char		*iss;
	const char		*aud;
	long			 lifetime;
} tk;

void
token_init(const char *secret, const char *issuer, const char *audience,
    long lifetime_s)
{
	tk.key = (const unsigned char *)secret;
	tk.keylen = strlen(secret);
	tk.iss = issuer;
	tk.aud = audience;
	tk.lifetime = lifetime_s;
	if (tk.keylen > 0)
		mac_setup();
}

char *
token_random(struct arena *a, const char *prefix, int nbytes, char **hash)
{
	unsigned char	 raw[64];
	size_t		 plen = strlen(prefix);
	char		*out;

	if (nbytes > (int)sizeof(raw))
		BUG("token_random: %d bytes", nbytes);
	rand_bytes(raw, (size_t)nbytes);
	out = arena_alloc(a, plen + (size_t)nbytes * 4 / 3 + 4);
	memcpy(out, prefix, plen);
	b64url_encode(out + plen, raw, (size_t)nbytes);
	if (hash != NULL)
		*hash = token_hash(a, out);
	return out;
}

char *
token_hash(struct arena *a, const char *tok)
{
	char *h = arena_alloc(a, 65);

	sha256_hex(h, tok, strlen(tok));
	return h;
}

char *
token_issue(struct arena *a, struct token_claims *c)
{
	jwt_t		*jwt = NULL;
	char		*enc, *out = NULL, jti[23];
	unsigned char	 rnd[16];

	rand_bytes(rnd, sizeof(rnd));
	b64url_encode(jti, rnd, sizeof(rnd));
	c->jti = arena_strdup(a, jti);
	c->iat = now_unix();
	c->exp = c->iat + tk.lifetime;
	if (jwt_new(&jwt) != 0)
		die("jwt_new");
	if (jwt_add_grant(jwt, "typ", "access") || jwt_add_grant(jwt, "sub", c->sub) ||
	    jwt_add_grant(jwt, "org", c->org) || jwt_add_grant(jwt, "role", c->role) ||
	    jwt_add_grant(jwt, "sid", c->sid) || jwt_add_grant(jwt, "jti", c->jti) ||
	    jwt_add_grant(jwt, "iss", tk.iss) || jwt_add_grant(jwt, "aud", tk.aud) ||
	    jwt_add_grant_int(jwt, "iat", c->iat) ||
	    jwt_add_grant_int(jwt, "nbf", c->iat) ||
	    jwt_add_grant_int(jwt, "exp", c->exp) ||
	    jwt_set_alg(jwt, JWT_ALG_HS256, tk.key, (int)tk.keylen) != 0)
		goto out;
	if ((enc = jwt_encode_str(jwt)) == NULL)
		goto out;
	out = arena_strdup(a, enc);
	free(enc);
out:
	jwt_free(jwt);
	if (out == NULL)
		log_error("jwt", "cannot encode a token");
	return out;
}

/* base64url of {"alg":"HS256","typ":"JWT"} (libjwt, PyJWT, jose...). */
#define CANONICAL_HEADER	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

static int
b64url_val(int c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '-') return 62;
	if (c == '_') return 63;
	return -1;
}

/* Decode unpadded base64url s[0..n) into out (n*3/4+1 bytes); -1 if bad. */
static ssize_t
b64url_decode(unsigned char *out, const char *s, size_t n)
{
	unsigned	acc = 0;
	size_t		i, o = 0;
	int		bits = 0, v;

	if (n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		if ((v = b64url_val((unsigned char)s[i])) < 0)
			return -1;
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* Leftover bits must be zero (canonical encoding). */
	if ((acc & ((1u << bits) - 1)) != 0)
		return -1;
	return (ssize_t)o;
}

/* HMAC-SHA256 of p with the token secret, on a pre-keyed per-thread context. */
static pthread_key_t	mac_key;
static pthread_once_t	mac_once = PTHREAD_ONCE_INIT;
static EVP_MAC_CTX	*mac_template;

static void
mac_free(void *p)
{
	EVP_MAC_CTX_free(p);
}

static void
mac_key_init(void)
{
	if (pthread_key_create(&mac_key, mac_free) != 0)
		die("pthread_key_create");
}

static int
hmac_sha256(const void *p, size_t n, unsigned char out[32])
{
	EVP_MAC_CTX	*ctx;
	size_t		 len = 0;

	pthread_once(&mac_once, mac_key_init);
	if ((ctx = pthread_getspecific(mac_key)) == NULL) {
		if ((ctx = EVP_MAC_CTX_dup(mac_template)) == NULL)
			die("EVP_MAC_CTX_dup");
		pthread_setspecific(mac_key, ctx);
	}
	if (!EVP_MAC_init(ctx, NULL, 0, NULL) || !EVP_MAC_update(ctx, p, n) ||
	    !EVP_MAC_final(ctx, out, &len, 32) || len != 32)
		return -1;
	return 0;
}

static void
mac_setup(void)
{
	EVP_MAC		*mac;
	OSSL_PARAM	 params[2];

	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (mac_template = EVP_MAC_CTX_new(mac)) == NULL)
		die("EVP_MAC HMAC unavailable");
	EVP_MAC_free(mac);
	params[0] = OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(mac_template, tk.key, tk.keylen, params))
		die("EVP_MAC_init");
}

void
token_cleanup(void)
{
	EVP_MAC_CTX_free(mac_template);
	mac_template = NULL;
}

static const char *
str_claim(json_object *g, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(g, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool
int_claim(json_object *g, const char *name, int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(g, name, &v) ||
	    !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

/* The protected header: exactly {"alg":"HS256"} plus an optional "typ". */
static bool
header_ok(json_object *h)
{
	const char *s;

	if (!json_object_is_type(h, json_type_object) ||
	    (s = str_claim(h, "alg")) == NULL || strcmp(s, "HS256") != 0)
		return false;
	json_object_object_foreach(h, k, v) {
		(void)v;
		if (strcmp(k, "alg") == 0 || strcmp(k, "kid") == 0)
			continue;
		if (strcmp(k, "typ") == 0 && (s = str_claim(h, "typ")) != NULL &&
		    strcasecmp(s, "JWT") == 0)
			continue;
		return false;	/* "crit" and anything unknown */
	}
	return true;
}

static int
check_claims(struct arena *a, json_object *g, struct token_claims *c,
    const char **why)
{
	const char	*s;
	int64_t		 now = now_unix(), nbf;

	if ((s = str_claim(g, "typ")) == NULL || strcmp(s, "access") != 0)
		return *why = "not an access token", -1;
	if ((s = str_claim(g, "iss")) == NULL || strcmp(s, tk.iss) != 0)
		return *why = "wrong issuer", -1;
	if ((s = str_claim(g, "aud")) == NULL || strcmp(s, tk.aud) != 0)
		return *why = "wrong audience", -1;
	if (!int_claim(g, "exp", &c->exp))
		return *why = "exp missing or not an integer", -1;
	if (c->exp <= now)
		return *why = "expired", -1;
	if (!int_claim(g, "iat", &c->iat) || c->iat > now + TOKEN_LEEWAY_S)
		return *why = "iat missing or in the future", -1;
	if (!int_claim(g, "nbf", &nbf) || nbf > now + TOKEN_LEEWAY_S)
		return *why = "nbf missing or in the future", -1;
	if ((c->sub = str_claim(g, "sub")) == NULL || !uuid_valid(c->sub) ||
	    (c->org = str_claim(g, "org")) == NULL || !uuid_valid(c->org) ||
	    (c->sid = str_claim(g, "sid")) == NULL || !uuid_valid(c->sid))
		return *why = "sub, org or sid missing or not a UUID", -1;
	if ((c->role = str_claim(g, "role")) == NULL ||
	    (strcmp(c->role, "user") != 0 && strcmp(c->role, "admin") != 0))
		return *why = "bad role", -1;
	if ((c->jti = str_claim(g, "jti")) == NULL || *c->jti == '\0' ||
	    strlen(c->jti) > 64)
		return *why = "jti missing", -1;
	c->sub = arena_strdup(a, c->sub);
	c->org = arena_strdup(a, c->org);
	c->sid = arena_strdup(a, c->sid);
	c->role = arena_strdup(a, c->role);
	c->jti = arena_strdup(a, c->jti);
	return 0;
}

int
token_verify(struct arena *a, const char *tok, struct token_claims *c,
    const char **why)
{
	const char	*d1, *d2;
	unsigned char	 sig[48], mac[32], *hdr = NULL, *pay = NULL;
	size_t		 len = strnlen(tok, TOKEN_MAX_LEN + 1);
	ssize_t		 hn, pn, sn;
	json_object	*h = NULL, *g = NULL;
	const char	*jwhy;
	int		 rc = -1;

	memset(c, 0, sizeof(*c));
	*why = "malformed token";
	if (len > TOKEN_MAX_LEN || (d1 = strchr(tok, '.')) == NULL ||
	    (d2 = strchr(d1 + 1, '.')) == NULL || strchr(d2 + 1, '.') != NULL ||
	    d1 == tok || d2 == d1 + 1)
		return -1;
	/* The signature first: nothing of an unsigned token is parsed. */
	if (tk.keylen == 0 || strlen(d2 + 1) > 64 ||
	    (sn = b64url_decode(sig, d2 + 1, strlen(d2 + 1))) != 32 ||
	    hmac_sha256(tok, (size_t)(d2 - tok), mac) != 0 ||
	    CRYPTO_memcmp(sig, mac, 32) != 0) {
		*why = "bad signature";
		return -1;
	}
	hdr = arena_alloc(a, (size_t)(d1 - tok));
	pay = arena_alloc(a, (size_t)(d2 - d1));
	if ((hn = b64url_decode(hdr, tok, (size_t)(d1 - tok))) < 0 ||
	    (pn = b64url_decode(pay, d1 + 1, (size_t)(d2 - d1 - 1))) < 0)
		return -1;
	/*
	 * The algorithm is checked after decoding, against the allowlist. The
	 * header every common library writes is recognised without parsing.
	 */
	if (!(d1 - tok == (ptrdiff_t)strlen(CANONICAL_HEADER) &&
	    memcmp(tok, CANONICAL_HEADER, strlen(CANONICAL_HEADER)) == 0) &&
	    ((h = json_parse((char *)hdr, (size_t)hn, &jwhy)) == NULL || !header_ok(h))) {
		*why = "algorithm or header not allowed";
		goto out;
	}
	if ((g = json_parse((char *)pay, (size_t)pn, &jwhy)) == NULL ||
	    !json_object_is_type(g, json_type_object))
		goto out;
	rc = check_claims(a, g, c, why);
out:
	json_object_put(h);
	json_object_put(g);
	return rc;
}
