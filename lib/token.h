/*
 * token.h - access tokens (JWT HS256) and opaque random tokens.
 *
 * Tokens are issued with libjwt. They are verified here, by hand, on
 * OpenSSL's HMAC: libjwt 1.10's jwt_decode costs ~27 us per call (measured:
 * its base64 and JSON work around a one-shot HMAC), which alone is a fifth
 * of a request's CPU budget at 15k req/s on two cores, whereas this path
 * costs a few microseconds. libjwt also takes the algorithm from the token's
 * header and validates no claim, which had to be done by hand anyway.
 * Verification order: shape, then the HMAC-SHA256 signature (constant-time
 * compare, per-thread pre-keyed context) before anything is parsed, then the
 * header (alg must be exactly HS256; no crit or unknown members), then every
 * claim: typ == "access", iss, aud, exp (present, integer, future), nbf and
 * iat (integers, not in the future beyond TOKEN_LEEWAY_S), sub/org/sid
 * UUIDs, role "user" | "admin", jti present. The integration tests check
 * interoperability both ways with an independent implementation (PyJWT).
 */
#ifndef LEXAR_TOKEN_H
#define LEXAR_TOKEN_H

#include <stdint.h>

struct arena;

#define TOKEN_LEEWAY_S	30
#define TOKEN_MAX_LEN	4096

struct token_claims {
	const char	*sub;		/* user id */
	const char	*org;		/* active organisation id */
	const char	*role;		/* platform role */
	const char	*sid;		/* session id */
	const char	*jti;
	int64_t		 iat, exp;
};

void	token_init(const char *secret, const char *issuer, const char *audience,
	    long lifetime_s);
void	token_cleanup(void);
/* A signed access token in the arena; c->jti/iat/exp are filled in. */
char	*token_issue(struct arena *a, struct token_claims *c);
/* 0 and claims (arena strings) or -1 with a reason for the log. */
int	 token_verify(struct arena *a, const char *tok, struct token_claims *c,
	    const char **why);

/*
 * An opaque token: prefix + base64url of nbytes random bytes, and the
 * SHA-256 hex under which it is stored (both in the arena).
 */
char	*token_random(struct arena *a, const char *prefix, int nbytes,
	    char **hash);
/* SHA-256 hex of a token presented by a client. */
char	*token_hash(struct arena *a, const char *tok);

#endif
