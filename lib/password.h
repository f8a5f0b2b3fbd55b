/*
 * password.h - argon2id password hashes (libargon2).
 *
 * Hashes are PHC strings ("$argon2id$v=19$m=19456,t=2,p=1$salt$hash") so
 * each shows its parameters. At most `concurrency` hashes are computed at
 * once per process: the others wait, so a login flood cannot take every
 * CPU from the other requests.
 */
#ifndef LEXAR_PASSWORD_H
#define LEXAR_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_HASH_MAX	160

void	password_init(unsigned memory_kib, unsigned iterations,
	    unsigned parallelism, unsigned concurrency);
/* 0 or -1 (out is NUL-terminated, PASSWORD_HASH_MAX bytes). */
int	password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_MAX]);
/*
 * True if pw matches encoded. encoded NULL (unknown user, no password)
 * verifies against a dummy hash so that the time taken is the same.
 */
bool	password_verify(const char *encoded, const char *pw, size_t len);
/* True if encoded was made with weaker parameters than configured. */
bool	password_needs_rehash(const char *encoded);

#endif
