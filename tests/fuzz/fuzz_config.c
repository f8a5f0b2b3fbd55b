/*
 * fuzz_config.c - conf.yaml through libyaml and the key table.
 */
#include <stdint.h>

#include "buf.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	c;
	struct buf	err = BUF_INIT;

	config_defaults(&c);
	if (config_apply_yaml(&c, "fuzz.yaml", (const char *)data, size, &err) == 0)
		config_validate(&c, &err);
	config_free(&c);
	buf_free(&err);
	return 0;
}
