/*
 * auth.h - who is calling: access tokens, API keys, the admin key.
 *
 * auth_request() runs in the dispatcher for routes flagged R_USER,
 * R_APIKEY or R_ADMIN, before the handler. An access token is verified
 * (signature, algorithm, claims) without the database; the check of its
 * session is left on r->guard to share the round trip of the handler's
 * first statement. An API key ("lx_...") is looked up at once. The admin
 * key (X-Admin-Key) is compared in constant time.
 */
#ifndef LEXAR_AUTH_H
#define LEXAR_AUTH_H

struct req;

/* 0 with r->auth filled, or -1 with 401/403 recorded. */
int	auth_request(struct req *r, unsigned flags);
/* Does the API key behind r->auth carry scope? ("llm", "read", "write") */
int	auth_require_scope(struct req *r, const char *scope);

#endif
