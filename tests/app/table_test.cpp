#include "app/table.hpp"

#include <gtest/gtest.h>

using hydra::app::Table;

TEST(Table, ColumnsAreAsWideAsTheirWidestCell) {
  Table t({"MODEL", "SIZE GB", "NODES"}, {false, true, false});
  t.add({"a-model-name-longer-than-any-fixed-column-would-allow:70b", "39.6", "10.0.0.5:11434"});
  t.add({"x:1b", "0.8", "10.0.0.5:11434, 10.0.0.6:11434"});
  EXPECT_EQ(t.render(),
            "MODEL                                                      SIZE GB  NODES\n"
            "a-model-name-longer-than-any-fixed-column-would-allow:70b     39.6  10.0.0.5:11434\n"
            "x:1b                                                           0.8  10.0.0.5:11434, 10.0.0.6:11434\n");
}

TEST(Table, ShortRowsAreFilledAndTheLastColumnIsNotPadded) {
  Table t({"A", "B"}, {});
  t.add({"long cell"});
  EXPECT_EQ(t.render(), "A          B\nlong cell  \n");
}
