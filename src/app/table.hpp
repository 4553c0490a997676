#pragma once
// A text table for the CLI: each column as wide as its widest cell, so long model names and
// node ids never push the columns after them out of line.
#include <string>
#include <vector>

namespace hydra::app {

class Table {
public:
  // `right`: which columns hold numbers (aligned right); the last column is never padded.
  Table(std::vector<std::string> header, std::vector<bool> right);
  void add(std::vector<std::string> row);
  std::string render() const;

private:
  std::vector<std::vector<std::string>> rows_;  // the header first
  std::vector<bool> right_;
};

}  // namespace hydra::app
