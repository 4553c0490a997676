#pragma once
// The load generator's JSON report: what was run and the resulting figures (milliseconds).
#include "runner.hpp"

#include <boost/json/object.hpp>

namespace loadgen {

// Reorders the sample vectors in `results` (percentiles partially sort them).
boost::json::object report(const Options& options, Results& results);

}  // namespace loadgen
