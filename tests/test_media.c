/*
 * test_media.c - placeholder
 */
#include "harness.h"
#include "hotline/media.h"

static int test_nothing(void)
{
	return 0;
}

static const struct hl_test tests[] = {
	HT_TEST(test_nothing),
};

int main(int argc, char **argv)
{
	return hl_test_main(tests, HL_ARRAY_SIZE(tests), argc, argv);
}
