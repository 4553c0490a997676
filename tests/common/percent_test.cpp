#include "common/percent.hpp"

#include <gtest/gtest.h>

using hydra::percent_decode;
using hydra::percent_encode;

TEST(Percent, EncodesAllButUnreservedBytes) {
  EXPECT_EQ(percent_encode("127.0.0.1:11434"), "127.0.0.1%3A11434");
  EXPECT_EQ(percent_encode("library/x:7b"), "library%2Fx%3A7b");
  EXPECT_EQ(percent_encode("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(percent_encode(std::string("\x00\xff", 2)), "%00%FF");
}

TEST(Percent, DecodesEitherCaseAndLeavesStrayPercentSigns) {
  EXPECT_EQ(percent_decode("127.0.0.1%3A11434"), "127.0.0.1:11434");
  EXPECT_EQ(percent_decode("library%2fx%3a7b"), "library/x:7b");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%4"), "%4");
  EXPECT_EQ(percent_decode("%zz%41"), "%zzA");
  EXPECT_EQ(percent_decode("%-1"), "%-1");
  EXPECT_EQ(percent_decode("plain:id"), "plain:id");
}

TEST(Percent, DecodingUndoesEncoding) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  EXPECT_EQ(percent_decode(percent_encode(all)), all);
}
