#include "tools/sim/packing_bound.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <glpk.h>

#include "tools/sim/fill_protocol.h"

namespace epc::tools::sim {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// GLPK's default tolerances are relative 1e-7: its optimum can sit that far below the true one,
// which would lift the bound above the truth on a perfect packing. Lowering the bound by 1e-6 of
// the free EPC (0.0001 percentage points, invisible in the report) keeps it a bound.
constexpr double kSolverMargin = 1e-6;

// The five dimensions a pod takes of a node, in the order of the arrays below.
enum Dimension : std::size_t { kCpu, kMemory, kEpc, kSlots, kPods, kDimensions };

using ShapeKey = std::array<std::int64_t, 4>;  // cpu_milli, memory_bytes, epc_bytes, slots
using TypeKey = std::array<std::int64_t, 8>;   // SimNode's numbers, in its field order

struct Shape {
  std::array<std::int64_t, kDimensions> demand{};
  std::int64_t count = 0;
};

struct NodeType {
  std::array<std::int64_t, kDimensions> free{};  // signed: pre-existing use may exceed capacity
  std::int64_t count = 0;
};

// The LP's coefficients are in GiB and cores: bytes and millicores reach 10^11 and 10^5, and
// keeping the matrix near unit scale helps the simplex as much as GLPK's own scaling does.
double lp_unit(Dimension d, std::int64_t amount) {
  const double value = static_cast<double>(amount);
  switch (d) {
    case kCpu:
      return value / 1000.0;
    case kMemory:
    case kEpc:
      return value / kGiB;
    default:
      return value;
  }
}

// How many pods of `shape` one empty node of `type` holds alone (0: not even one). Every
// dimension with demand bounds it; the pod count always does (one per pod), so it is finite.
std::int64_t pods_per_node(const Shape& shape, const NodeType& type) {
  std::int64_t fit = std::numeric_limits<std::int64_t>::max();
  for (std::size_t d = 0; d < kDimensions; ++d) {
    if (shape.demand[d] > type.free[d]) {
      return 0;
    }
    if (shape.demand[d] > 0) {
      fit = std::min(fit, type.free[d] / shape.demand[d]);
    }
  }
  return fit;
}

// GLPK keeps its environment (terminal switch, memory accounting) per thread when it is built
// with thread-local storage, as Debian's is: then glp_term_out must be called by every thread
// that solves, and problems on different threads are independent. Without it, one environment is
// shared and calls are serialised under a mutex. glp_config is asked once.
bool glpk_environment_is_per_thread() {
  static std::once_flag once;
  static bool per_thread = false;
  std::call_once(once, [] { per_thread = glp_config("TLS") != nullptr; });
  return per_thread;
}

std::mutex& glpk_shared_environment_mutex() {
  static std::mutex mutex;
  return mutex;
}

// Frees this thread's GLPK environment when a bound is done: a study's worker threads end after
// the study, and an environment left behind would be a leak (CI runs LeakSanitizer). The next call
// on the thread re-creates it.
struct GlpkEnvironmentScope {
  GlpkEnvironmentScope() { glp_term_out(GLP_OFF); }
  ~GlpkEnvironmentScope() { glp_free_env(); }
  GlpkEnvironmentScope(const GlpkEnvironmentScope&) = delete;
  GlpkEnvironmentScope& operator=(const GlpkEnvironmentScope&) = delete;
};

struct GlpProbDeleter {
  void operator()(glp_prob* lp) const { glp_delete_prob(lp); }
};
using GlpProbPtr = std::unique_ptr<glp_prob, GlpProbDeleter>;

// A column of the LP before it is handed to GLPK.
struct Column {
  std::size_t shape = 0;
  std::size_t type = 0;
  double upper = 0.0;  // pods
};

struct LpOutcome {
  double optimum_epc_gib = 0.0;
  double solve_seconds = 0.0;
};

// Builds and solves max Σ x·EPC over `columns`. Rows are numbered from 1 as GLPK wants;
// `row_of_shape` and `row_of_type_dim` give each column's rows (0: the row does not exist).
common::Result<LpOutcome> solve(const std::vector<Shape>& shapes,
                                const std::vector<NodeType>& types,
                                const std::vector<Column>& columns,
                                const std::vector<int>& row_of_shape,
                                const std::vector<std::array<int, kDimensions>>& row_of_type_dim,
                                int row_count) {
  std::unique_lock lock(glpk_shared_environment_mutex(), std::defer_lock);
  if (!glpk_environment_is_per_thread()) {
    lock.lock();
  }
  // Declared before the problem so it is destroyed after it: glp_free_env frees every object.
  const GlpkEnvironmentScope environment;
  const GlpProbPtr lp(glp_create_prob());
  glp_set_obj_dir(lp.get(), GLP_MAX);

  glp_add_rows(lp.get(), row_count);
  for (std::size_t s = 0; s < shapes.size(); ++s) {
    if (row_of_shape[s] != 0) {
      glp_set_row_bnds(lp.get(), row_of_shape[s], GLP_UP, 0.0,
                       static_cast<double>(shapes[s].count));
    }
  }
  for (std::size_t t = 0; t < types.size(); ++t) {
    for (std::size_t d = 0; d < kDimensions; ++d) {
      if (const int row = row_of_type_dim[t][d]; row != 0) {
        const double capacity = static_cast<double>(types[t].count) *
                                lp_unit(static_cast<Dimension>(d), types[t].free[d]);
        glp_set_row_bnds(lp.get(), row, GLP_UP, 0.0, capacity);
      }
    }
  }

  // GLPK's sparse arrays are 1-based: index 0 is a placeholder.
  std::vector<int> ia{0};
  std::vector<int> ja{0};
  std::vector<double> ar{0.0};
  const int column_count = static_cast<int>(columns.size());
  glp_add_cols(lp.get(), column_count);
  for (int j = 1; j <= column_count; ++j) {
    const Column& column = columns[static_cast<std::size_t>(j - 1)];
    const Shape& shape = shapes[column.shape];
    glp_set_col_bnds(lp.get(), j, GLP_DB, 0.0, column.upper);
    glp_set_obj_coef(lp.get(), j, lp_unit(kEpc, shape.demand[kEpc]));
    ia.push_back(row_of_shape[column.shape]);
    ja.push_back(j);
    ar.push_back(1.0);
    for (std::size_t d = 0; d < kDimensions; ++d) {
      if (shape.demand[d] > 0) {
        ia.push_back(row_of_type_dim[column.type][d]);
        ja.push_back(j);
        ar.push_back(lp_unit(static_cast<Dimension>(d), shape.demand[d]));
      }
    }
  }
  glp_load_matrix(lp.get(), static_cast<int>(ar.size() - 1), ia.data(), ja.data(), ar.data());
  glp_scale_prob(lp.get(), GLP_SF_AUTO);

  glp_smcp parameters;
  glp_init_smcp(&parameters);
  parameters.msg_lev = GLP_MSG_OFF;
  parameters.presolve = GLP_ON;
  const auto start = std::chrono::steady_clock::now();
  const int code = glp_simplex(lp.get(), &parameters);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  if (code != 0) {
    return common::Error{"packing bound: glp_simplex failed with code " + std::to_string(code) +
                         " on an LP of " + std::to_string(row_count) + " rows and " +
                         std::to_string(column_count) + " columns"};
  }
  if (const int status = glp_get_status(lp.get()); status != GLP_OPT) {
    return common::Error{"packing bound: the LP's solution is not optimal (GLPK status " +
                         std::to_string(status) + ")"};
  }
  return LpOutcome{glp_get_obj_val(lp.get()), elapsed.count()};
}

}  // namespace

common::Result<PackingBound> bound_packing(const Trace& trace,
                                           std::span<const std::size_t> arrivals,
                                           const PackingBoundOptions& options) {
  PackingBound bound;
  std::map<ShapeKey, std::int64_t> shape_counts;
  for (const std::size_t p : arrivals) {
    const SimPod& pod = trace.pods[p];
    ++shape_counts[{pod.cpu_milli, pod.memory_bytes, pod.epc_bytes, pod.enclave_slots}];
    ++bound.arrived_pods;
    bound.arrived_epc_bytes += pod.epc_bytes;
  }
  std::map<TypeKey, std::int64_t> type_counts;
  std::int64_t capacity = 0;
  std::int64_t used = 0;
  for (const SimNode& node : trace.nodes) {
    ++type_counts[{node.cpu_milli, node.memory_bytes, node.epc_bytes, node.enclave_slots,
                   node.max_pods, node.epc_used_bytes, node.enclave_slots_used, node.pods_used}];
    capacity += node.epc_bytes;
    used += node.epc_used_bytes;
  }
  bound.used_at_start_epc_bytes = used;
  bound.free_at_start_epc_bytes = std::max<std::int64_t>(capacity - used, 0);
  bound.pod_shapes = static_cast<std::int64_t>(shape_counts.size());
  bound.node_types = static_cast<std::int64_t>(type_counts.size());

  std::vector<Shape> shapes;
  for (const auto& [key, count] : shape_counts) {
    if (key[2] > 0) {  // EPC-less pods cannot raise the objective
      shapes.push_back({{key[0], key[1], key[2], key[3], 1}, count});
    }
  }
  std::vector<NodeType> types;
  for (const auto& [key, count] : type_counts) {
    types.push_back({{key[0], key[1], key[2] - key[5], key[3] - key[6], key[4] - key[7]}, count});
  }

  // Only what a column touches becomes a row, so the LP's size is what it really solves.
  std::vector<Column> columns;
  std::vector<int> row_of_shape(shapes.size(), 0);
  std::vector<std::array<int, kDimensions>> row_of_type_dim(types.size());
  int row_count = 0;
  for (std::size_t s = 0; s < shapes.size(); ++s) {
    for (std::size_t t = 0; t < types.size(); ++t) {
      const std::int64_t per_node = pods_per_node(shapes[s], types[t]);
      if (per_node == 0) {
        continue;
      }
      // min(n_s, N_t·k), with k capped at n_s first so the product cannot overflow.
      const std::int64_t upper =
          options.cap_per_node_count
              ? std::min(shapes[s].count, types[t].count * std::min(per_node, shapes[s].count))
              : shapes[s].count;
      columns.push_back({s, t, static_cast<double>(upper)});
      if (row_of_shape[s] == 0) {
        row_of_shape[s] = ++row_count;
      }
      for (std::size_t d = 0; d < kDimensions; ++d) {
        if (shapes[s].demand[d] > 0 && row_of_type_dim[t][d] == 0) {
          row_of_type_dim[t][d] = ++row_count;
        }
      }
    }
  }
  bound.rows = row_count;
  bound.columns = static_cast<std::int64_t>(columns.size());

  double optimum_epc_gib = 0.0;
  if (!columns.empty()) {
    common::Result<LpOutcome> outcome =
        solve(shapes, types, columns, row_of_shape, row_of_type_dim, row_count);
    if (!outcome) {
      return outcome.error();
    }
    optimum_epc_gib = outcome->optimum_epc_gib;
    bound.solve_seconds = outcome->solve_seconds;
  }
  bound.placeable_epc_bytes = std::max(0.0, optimum_epc_gib * kGiB);
  if (bound.free_at_start_epc_bytes > 0) {
    const double free = static_cast<double>(bound.free_at_start_epc_bytes);
    bound.unallocated_at_full =
        std::clamp((free - bound.placeable_epc_bytes) / free - kSolverMargin, 0.0, 1.0);
  }
  return bound;
}

common::Result<PackingBound> bound_packing_at_full(const Trace& trace, std::uint64_t seed,
                                                   const PackingBoundOptions& options) {
  return bound_packing(trace, draw_arrivals(trace, seed, 1.0), options);
}

}  // namespace epc::tools::sim
