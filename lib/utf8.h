/*
 * utf8.h - UTF-8 validation (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF).
 */
#ifndef LEXAR_UTF8_H
#define LEXAR_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid sequence at p (1..4), or 0 if it is not valid. */
size_t	utf8_seq_len(const unsigned char *p, size_t n);
/* True if s[0..n) is valid UTF-8 and contains no NUL byte. */
bool	utf8_valid(const char *s, size_t n);
/* Number of code points in valid UTF-8 s[0..n). */
size_t	utf8_count(const char *s, size_t n);

#endif
