/*
 * crypto.h - AES-256-GCM for secrets at rest (users' provider keys).
 *
 * Master keys come from crypto.master_keys ("id:hex"): the first encrypts,
 * any of them decrypts (the id is stored with each ciphertext), so keys can
 * be rotated. Each encryption uses a fresh random 96-bit nonce; the
 * associated data binds a ciphertext to its owner (e.g. "user-id/provider")
 * so that it cannot be moved to another row.
 */
#ifndef LEXAR_CRYPTO_H
#define LEXAR_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct cfg_list;

#define CRYPTO_NONCE	12
#define CRYPTO_TAG	16

/* Parse the configured keys; -1 if none (the feature is then off). */
int	crypto_init(const struct cfg_list *keys);
bool	crypto_enabled(void);
void	crypto_cleanup(void);

/*
 * Encrypt: out (arena) = ciphertext || tag; *key_id (static) names the key.
 * 0 or -1.
 */
int	crypto_seal(struct arena *a, const char *plain, size_t n, const char *aad,
	    const char **key_id, unsigned char nonce[CRYPTO_NONCE],
	    unsigned char **out, size_t *outlen);
/* Decrypt into a NUL-terminated arena string; NULL if the key id is
 * unknown or the data or aad do not authenticate. */
char	*crypto_open(struct arena *a, const char *key_id,
	    const unsigned char nonce[CRYPTO_NONCE], const unsigned char *ct,
	    size_t ctlen, const char *aad);

#endif
