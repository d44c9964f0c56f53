// Placeholder (issue 10): tests being written.
#include <gtest/gtest.h>
