/*
 * main.c - runs every unit test suite.
 */
#include <stdlib.h>

#include "test.h"

int		 t_pass, t_fail;
const char	*t_name = "";

int
main(void)
{
	suite_arena();
	suite_buf();
	suite_utf8();
	suite_util();
	suite_json();
	suite_config();
	suite_router();
	suite_http();
	printf("unit: %d passed, %d failed\n", t_pass, t_fail);
	return t_fail == 0 ? 0 : 1;
}
