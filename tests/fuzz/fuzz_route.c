/*
 * fuzz_route.c - method + path against the real route table.
 * Input: first byte picks the method, the rest is the path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lexar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct route_match	 m;
	char			*path, allow[96];
	int			 method, i;

	if (size < 1)
		return 0;
	method = 1 << (data[0] % 8);
	path = malloc(size);
	memcpy(path, data + 1, size - 1);
	path[size - 1] = '\0';
	if (route_match(routes, nroutes, method, path, &m) >= 0) {
		for (i = 0; i < m.nparams; i++)
			if (strlen(m.values[i]) > 128)
				abort();
	}
	method_allow_list(m.allowed, allow, sizeof(allow));
	free(path);
	return 0;
}
