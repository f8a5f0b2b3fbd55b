/*
 * test.h - a minimal unit test runner. Each test file defines
 *   void suite_<name>(void)
 * calling TEST(...) blocks; main.c lists the suites. The summary line
 * "unit: N passed, M failed" is what CI reads; the exit code is non-zero
 * when anything failed.
 */
#ifndef LEXAR_TEST_H
#define LEXAR_TEST_H

#include <stdio.h>
#include <string.h>

extern int	t_pass, t_fail;
extern const char *t_name;

#define CHECK(cond) do {						\
	if (cond) t_pass++;						\
	else {								\
		t_fail++;						\
		fprintf(stderr, "FAIL %s: %s:%d: %s\n", t_name,		\
		    __FILE__, __LINE__, #cond);				\
	}								\
} while (0)

#define CHECK_STR(a, b) do {						\
	const char *_a = (a), *_b = (b);				\
	if (_a != NULL && _b != NULL && strcmp(_a, _b) == 0) t_pass++;	\
	else {								\
		t_fail++;						\
		fprintf(stderr, "FAIL %s: %s:%d: \"%s\" != \"%s\"\n",	\
		    t_name, __FILE__, __LINE__, _a ? _a : "(null)",	\
		    _b ? _b : "(null)");				\
	}								\
} while (0)

#define TEST(name)	for (int _once = (t_name = (name), 1); _once; _once = 0)

void	suite_buf(void);
void	suite_arena(void);
void	suite_utf8(void);
void	suite_util(void);
void	suite_json(void);
void	suite_config(void);
void	suite_router(void);
void	suite_http(void);

#endif
