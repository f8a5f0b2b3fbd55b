/*
 * test_core.c - arena, buf, utf8, util.
 */
#include <stdint.h>
#include <stdlib.h>

#include "arena.h"
#include "buf.h"
#include "test.h"
#include "utf8.h"
#include "util.h"

static int cleaned;

static void
count_cleanup(void *p)
{
	cleaned += *(int *)p;
}

void
suite_arena(void)
{
	struct arena	 a;
	char		*p, *big;
	int		 one = 1, ten = 10;
	size_t		 i;

	arena_init(&a);
	TEST("arena: aligned, distinct allocations") {
		p = arena_alloc(&a, 3);
		big = arena_alloc(&a, 5);
		CHECK(((uintptr_t)p & 15) == 0);
		CHECK(((uintptr_t)big & 15) == 0);
		CHECK(p != big);
	}
	TEST("arena: large allocations and many blocks survive") {
		big = arena_alloc(&a, 1 << 20);
		memset(big, 'x', 1 << 20);
		for (i = 0; i < 1000; i++)
			memset(arena_alloc(&a, 100), 'y', 100);
		CHECK(big[(1 << 20) - 1] == 'x');
		CHECK(arena_size(&a) > (1 << 20));
	}
	TEST("arena: cleanups run LIFO on reset, then the arena is reusable") {
		cleaned = 0;
		arena_cleanup(&a, count_cleanup, &one);
		arena_cleanup(&a, count_cleanup, &ten);
		arena_cleanup(&a, count_cleanup, NULL);	/* ignored */
		arena_reset(&a);
		CHECK(cleaned == 11);
		CHECK(arena_size(&a) == 16 * 1024);
		CHECK_STR(arena_sprintf(&a, "%s-%d", "x", 42), "x-42");
		CHECK_STR(arena_strndup(&a, "abcdef", 3), "abc");
	}
	arena_free(&a);
}

void
suite_buf(void)
{
	struct buf b = BUF_INIT;

	TEST("buf: empty buffer is a valid empty string") {
		CHECK(b.data != NULL && b.len == 0 && b.data[0] == '\0');
	}
	TEST("buf: add, printf, truncate keep the NUL") {
		buf_adds(&b, "hello");
		buf_printf(&b, " %d", 12345);
		CHECK_STR(b.data, "hello 12345");
		buf_truncate(&b, 5);
		CHECK_STR(b.data, "hello");
		CHECK(b.len == 5);
	}
	TEST("buf: growth across many appends") {
		size_t i;

		buf_reset(&b);
		for (i = 0; i < 10000; i++)
			buf_addch(&b, 'a' + (int)(i % 26));
		CHECK(b.len == 10000 && b.data[10000] == '\0' && b.data[26] == 'a');
	}
	TEST("buf: JSON strings are escaped and always valid") {
		buf_reset(&b);
		buf_add_json_str(&b, "a\"b\\c\n\x01\xc3\xa9", 9);
		CHECK_STR(b.data, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
		buf_reset(&b);
		buf_add_json_str(&b, "x\xff\xc3", 3);
		CHECK_STR(b.data, "\"x\\ufffd\\ufffd\"");
		buf_reset(&b);
		buf_add_json_cstr(&b, NULL);
		CHECK_STR(b.data, "null");
	}
	buf_free(&b);
	TEST("buf: free returns to the empty state") {
		CHECK(b.len == 0 && b.cap == 0 && b.data[0] == '\0');
	}
}

void
suite_utf8(void)
{
	TEST("utf8: valid sequences") {
		CHECK(utf8_valid("plain", 5));
		CHECK(utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
		CHECK(utf8_count("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9) == 3);
	}
	TEST("utf8: invalid sequences, overlongs, surrogates, NUL") {
		CHECK(!utf8_valid("\xff", 1));
		CHECK(!utf8_valid("\xc0\xaf", 2));		/* overlong '/' */
		CHECK(!utf8_valid("\xe0\x80\xaf", 3));	/* overlong */
		CHECK(!utf8_valid("\xed\xa0\x80", 3));	/* surrogate */
		CHECK(!utf8_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
		CHECK(!utf8_valid("\xc3", 1));		/* truncated */
		CHECK(!utf8_valid("a\0b", 3));
	}
}

void
suite_util(void)
{
	char		out[65];
	long long	v;
	int64_t		id;

	TEST("util: hex and base64url") {
		hex_encode(out, "\x00\xff\x10", 3);
		CHECK_STR(out, "00ff10");
		b64url_encode(out, "\xfb\xff", 2);
		CHECK_STR(out, "-_8");
		b64url_encode(out, "abc", 3);
		CHECK_STR(out, "YWJj");
	}
	TEST("util: sha256") {
		sha256_hex(out, "abc", 3);
		CHECK_STR(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	}
	TEST("util: uuid validation") {
		CHECK(uuid_valid("123e4567-e89b-12d3-a456-426614174000"));
		CHECK(uuid_valid("123E4567-E89B-12D3-A456-426614174000"));
		CHECK(!uuid_valid("123e4567-e89b-12d3-a456-42661417400"));
		CHECK(!uuid_valid("123e4567-e89b-12d3-a456-4266141740000"));
		CHECK(!uuid_valid("123e4567ze89b-12d3-a456-426614174000"));
		CHECK(!uuid_valid("../etc/passwd"));
	}
	TEST("util: integer parsing") {
		CHECK(parse_int("42", 0, 100, &v) && v == 42);
		CHECK(parse_int("-5", -10, 10, &v) && v == -5);
		CHECK(!parse_int("101", 0, 100, &v));
		CHECK(!parse_int("4x", 0, 100, &v));
		CHECK(!parse_int("", 0, 100, &v));
		CHECK(!parse_int(" 4", 0, 100, &v));
		CHECK(!parse_int("99999999999999999999", 0, INT64_MAX, &v));
		CHECK(parse_id64("7", &id) && id == 7);
		CHECK(!parse_id64("07", &id));
		CHECK(!parse_id64("0", &id));
	}
	TEST("util: constant-time compare") {
		CHECK(ct_equal("secret", 6, "secret", 6));
		CHECK(!ct_equal("secret", 6, "secreT", 6));
		CHECK(!ct_equal("secret", 6, "secret!", 7));
	}
	TEST("util: random bytes differ") {
		unsigned char a[16], b[16];

		rand_bytes(a, sizeof(a));
		rand_bytes(b, sizeof(b));
		CHECK(memcmp(a, b, 16) != 0);
	}
}
