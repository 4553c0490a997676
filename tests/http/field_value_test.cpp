// A reply field's value on the wire: control characters but HTAB are refused by the fast test
// at every offset of a word, and made spaces by the mend.
#include "http/field_value.hpp"

#include <gtest/gtest.h>
#include <cctype>
#include <random>

using hydra::http::field_value_safe;
using hydra::http::safe_field_value;

namespace {

bool safe_byte(unsigned char u) { return !((u < 0x20 && u != '\t') || u == 0x7f); }

bool safe_slowly(std::string_view s) {
  for (char c : s)
    if (!safe_byte(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace

TEST(FieldValue, EachByteAtEachOffsetIsJudgedAsItsOwnDefinitionSays) {
  for (int b = 0; b < 256; ++b)
    for (std::size_t length : {1u, 7u, 8u, 9u, 15u, 16u, 17u, 23u, 31u, 32u, 33u, 47u})
      for (std::size_t at = 0; at < length; ++at) {
        std::string s(length, 'a');
        s[at] = static_cast<char>(b);
        ASSERT_EQ(field_value_safe(s), safe_byte(static_cast<unsigned char>(b)))
            << "byte " << b << " at " << at << " of " << length;
      }
  EXPECT_TRUE(field_value_safe(""));
  EXPECT_TRUE(field_value_safe("chose 10.0.0.7:11434 (score 0.94: resident in VRAM)\twith a tab"));
  EXPECT_TRUE(field_value_safe("caf\xc3\xa9 \xe2\x80\x94 bytes above 0x7f are not controls"));
}

TEST(FieldValue, RandomValuesAgreeWithTheBytewiseTest) {
  std::mt19937 rng(17);
  std::uniform_int_distribution<int> length(0, 70), pick(0, 99), any(0, 255), printable(0x20, 0x7e);
  for (int i = 0; i < 20000; ++i) {
    std::string s(static_cast<std::size_t>(length(rng)), ' ');
    for (char& c : s) c = static_cast<char>(pick(rng) < 97 ? printable(rng) : any(rng));
    ASSERT_EQ(field_value_safe(s), safe_slowly(s)) << i;
    const std::string mended = safe_field_value(s);
    ASSERT_EQ(mended.size(), s.size());
    EXPECT_TRUE(field_value_safe(mended));
    for (std::size_t k = 0; k < s.size(); ++k)
      EXPECT_EQ(mended[k], safe_byte(static_cast<unsigned char>(s[k])) ? s[k] : ' ') << i << " at " << k;
  }
}

TEST(FieldValue, ALineBreakBecomesSpacesSoNoFieldFollows) {
  EXPECT_EQ(safe_field_value("node x\r\nX-Evil: 1"), "node x  X-Evil: 1");
  EXPECT_EQ(safe_field_value(std::string("a\0b\x7f", 4)), "a b ");
}

// field_id's short cut for the common names gives Beast's own answer, in any case, and names
// that only look alike (one letter off, a CR or '_' where a '-' is) get Beast's answer too.
TEST(FieldValue, FieldIdsAreBeastsForEveryCaseOfTheCommonNames) {
  const char* names[] = {"Host", "Accept", "User-Agent", "Connection", "Content-Type", "Authorization",
                         "Content-Length", "Accept-Encoding", "X-Request-Id", "traceparent", "Expect",
                         "Proxy-Connection", "Transfer-Encoding", "Hosts", "Accepts", "User-Agenu",
                         "Content_Type", "Cookie", "Origin"};
  for (std::string name : names) {
    for (int variant = 0; variant < 3; ++variant) {
      std::string n = name;
      for (char& c : n) {
        if (variant == 1) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (variant == 2) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      EXPECT_EQ(hydra::http::field_id(n), boost::beast::http::string_to_field(n)) << n;
    }
  }
  EXPECT_EQ(hydra::http::field_id("Host"), boost::beast::http::field::host);
  EXPECT_EQ(hydra::http::field_id("Content\rLength"), boost::beast::http::string_to_field("Content\rLength"));
  EXPECT_EQ(hydra::http::field_id("Content-Lengti"), boost::beast::http::field::unknown);
}
