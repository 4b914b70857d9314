#include "check.h"
TEST(dense_placeholder) { CHECK(test_ctx() != 0, "no ctx"); }
