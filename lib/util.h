/*
 * util.h - small pure helpers: randomness, encodings, ids, time.
 */
#ifndef LEXAR_UTIL_H
#define LEXAR_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fill p with n bytes from the OS CSPRNG (getrandom); aborts on failure. */
void	 rand_bytes(void *p, size_t n);

/* out must hold 2n+1 bytes; lower-case hex, NUL-terminated. */
void	 hex_encode(char *out, const void *in, size_t n);
/* base64url without padding; out must hold 4*((n+2)/3)+1 bytes. */
size_t	 b64url_encode(char *out, const void *in, size_t n);

/* 36-character canonical UUID (any version), case-insensitive. */
bool	 uuid_valid(const char *s);
/* Positive decimal integer without sign or leading zero, fits int64. */
bool	 parse_id64(const char *s, int64_t *out);
/* Whole string is a base-10 integer in [min, max]. */
bool	 parse_int(const char *s, long long min, long long max, long long *out);

/* Constant-time comparison of two byte strings (length leaks, content not). */
bool	 ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* SHA-256 of p as 64 lower-case hex characters plus NUL / raw bytes. */
void	 sha256_hex(char out[65], const void *p, size_t n);
void	 sha256_raw(unsigned char out[32], const void *p, size_t n);

/* Milliseconds / microseconds on the monotonic clock. */
int64_t	 now_ms(void);
int64_t	 now_us(void);
/* Seconds since the epoch. */
int64_t	 now_unix(void);

/* ASCII case-insensitive prefix test. */
bool	 starts_with_ci(const char *s, const char *prefix);

#endif
