// Bindings for the batched search (csrc/search/batched.h) and the feature-set registry.
// Thread-safety: gather/scatter/encode release the GIL and touch only C++ state and the
// numpy buffers handed over by set_buffers, which the Python wrapper keeps alive.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "go/encoder.h"
#include "search/batched.h"

namespace py = pybind11;
using namespace tengen;

namespace {

using FloatArray = py::array_t<float, py::array::c_style>;

float* checked(FloatArray& a, py::ssize_t rows, py::ssize_t row_len, const char* what) {
  if (a.ndim() < 1 || a.shape(0) < rows || a.size() != a.shape(0) * row_len)
    throw py::value_error(std::string("buffer '") + what + "' has the wrong shape: need " + std::to_string(rows) +
                          " rows of " + std::to_string(row_len) + " float32 values");
  return a.mutable_data();
}

PolicyMode policy_from_string(const std::string& s) {
  if (s == "net") return PolicyMode::Net;
  if (s == "uniform") return PolicyMode::Uniform;
  if (s == "heuristic") return PolicyMode::Heuristic;
  if (s == "rollout") return PolicyMode::Rollout;
  throw py::value_error("policy must be one of net, uniform, heuristic, rollout (got '" + s + "')");
}

std::string policy_to_string(PolicyMode m) {
  switch (m) {
    case PolicyMode::Net: return "net";
    case PolicyMode::Uniform: return "uniform";
    case PolicyMode::Heuristic: return "heuristic";
    case PolicyMode::Rollout: return "rollout";
  }
  return "?";
}

}  // namespace

void init_batched(py::module_& m) {
  m.def("feature_sets", &feature_set_names, "Names of the registered input feature sets.");
  py::class_<SearchConfig>(m, "SearchConfig")
      .def(py::init<>())
      .def_readwrite("visits", &SearchConfig::visits)
      .def_readwrite("leaves_per_game", &SearchConfig::leaves_per_game)
      .def_readwrite("batch_size", &SearchConfig::batch_size)
      .def_readwrite("c_puct", &SearchConfig::c_puct)
      .def_readwrite("c_puct_base", &SearchConfig::c_puct_base)
      .def_readwrite("fpu_reduction", &SearchConfig::fpu_reduction)
      .def_readwrite("virtual_loss", &SearchConfig::virtual_loss)
      .def_property("policy", [](const SearchConfig& c) { return policy_to_string(c.policy); },
                    [](SearchConfig& c, const std::string& s) { c.policy = policy_from_string(s); })
      .def_readwrite("use_value", &SearchConfig::use_value)
      .def_readwrite("use_rollouts", &SearchConfig::use_rollouts)
      .def_readwrite("lambda_", &SearchConfig::lambda)
      .def_readwrite("rollout_threads", &SearchConfig::rollout_threads)
      .def_readwrite("features", &SearchConfig::features)
      .def_readwrite("random_symmetry", &SearchConfig::random_symmetry)
      .def_readwrite("root_noise", &SearchConfig::root_noise)
      .def_readwrite("dirichlet_alpha", &SearchConfig::dirichlet_alpha)
      .def_readwrite("dirichlet_epsilon", &SearchConfig::dirichlet_epsilon)
      .def_readwrite("gumbel", &SearchConfig::gumbel)
      .def_readwrite("gumbel_considered", &SearchConfig::gumbel_considered)
      .def_readwrite("temperature_moves", &SearchConfig::temperature_moves)
      .def_readwrite("temperature", &SearchConfig::temperature)
      .def_readwrite("resign_threshold", &SearchConfig::resign_threshold)
      .def_readwrite("no_resign_fraction", &SearchConfig::no_resign_fraction)
      .def_readwrite("max_moves", &SearchConfig::max_moves)
      .def_readwrite("reuse_tree", &SearchConfig::reuse_tree)
      .def_readwrite("cache_size", &SearchConfig::cache_size)
      .def_readwrite("full_search_prob", &SearchConfig::full_search_prob)
      .def_readwrite("fast_visits", &SearchConfig::fast_visits)
      .def_readwrite("seed", &SearchConfig::seed);

  py::class_<RootChild>(m, "RootChild")
      .def_readonly("move", &RootChild::move)
      .def_readonly("visits", &RootChild::visits)
      .def_readonly("q", &RootChild::q)
      .def_readonly("prior", &RootChild::prior)
      .def_readonly("pv", &RootChild::pv);

  py::class_<BatchedSearch>(m, "BatchedSearch")
      .def(py::init([](const SearchConfig& c, int size, float komi, int num_games) {
             try {
               return std::make_unique<BatchedSearch>(c, size, komi, num_games);
             } catch (const std::invalid_argument& e) {
               throw py::value_error(e.what());
             }
           }),
           py::arg("config"), py::arg("size"), py::arg("komi"), py::arg("num_games"))
      .def_property_readonly("size", &BatchedSearch::size)
      .def_property_readonly("num_games", &BatchedSearch::num_games)
      .def_property_readonly("planes", &BatchedSearch::planes)
      .def_property_readonly("policy_size", &BatchedSearch::policy_size)
      .def_property_readonly("needs_network", &BatchedSearch::needs_network)
      .def("set_rollout_policy", [](BatchedSearch& s, std::shared_ptr<RolloutPolicy> policy) {
        s.set_rollout_policy(std::move(policy));
      }, py::arg("policy").none(true),
         "The trained RolloutPolicy for rollouts and for policy 'rollout' priors (None: light playouts).")
      .def_property_readonly("has_rollout_policy", &BatchedSearch::has_rollout_policy)
      .def_property_readonly("games_started", &BatchedSearch::games_started)
      .def_property_readonly("evaluations", &BatchedSearch::evaluations)
      .def_property_readonly("cache_hits", &BatchedSearch::cache_hits)
      .def_property_readonly("terminal_hits", &BatchedSearch::terminal_hits)
      .def("set_buffers", [](BatchedSearch& s, int slot, FloatArray inputs, FloatArray masks, FloatArray policy,
                             FloatArray values) {
        const py::ssize_t b = s.config().batch_size;
        const py::ssize_t area = static_cast<py::ssize_t>(s.size()) * s.size();
        s.set_buffers(slot, checked(inputs, b, s.planes() * area, "inputs"),
                      checked(masks, b, s.policy_size(), "masks"), checked(policy, b, s.policy_size(), "policy"),
                      checked(values, b, 1, "values"));
      }, py::arg("slot"), py::arg("inputs"), py::arg("masks"), py::arg("policy"), py::arg("values"),
         "Registers the slot's buffers; the caller must keep the arrays alive.")
      .def("start_selfplay", &BatchedSearch::start_selfplay, py::arg("total_games"))
      .def("set_position", &BatchedSearch::set_position, py::arg("game_index"), py::arg("game"))
      .def("set_target_visits", &BatchedSearch::set_target_visits, py::arg("game_index"), py::arg("visits"))
      .def("advance", &BatchedSearch::advance, py::arg("game_index"), py::arg("move"))
      .def("gather", &BatchedSearch::gather, py::arg("slot"), py::call_guard<py::gil_scoped_release>())
      .def("scatter", &BatchedSearch::scatter, py::arg("slot"), py::arg("n"), py::call_guard<py::gil_scoped_release>())
      .def("search_done", &BatchedSearch::search_done, py::arg("game_index"))
      .def("all_done", &BatchedSearch::all_done)
      .def("root_visits", &BatchedSearch::root_visits, py::arg("game_index"))
      .def("root_value", &BatchedSearch::root_value, py::arg("game_index"))
      .def("root_children", &BatchedSearch::root_children, py::arg("game_index"), py::arg("pv_length") = 12)
      .def("best_move", &BatchedSearch::best_move, py::arg("game_index"))
      .def("game", [](const BatchedSearch& s, int g) { return Game(s.game(g)); }, py::arg("game_index"))
      .def("pop_finished", [](BatchedSearch& s) {
        py::list out;
        for (FinishedGame& f : s.pop_finished()) {
          py::dict d;
          const py::ssize_t rows = static_cast<py::ssize_t>(f.full_search.size());
          const py::ssize_t cols = static_cast<py::ssize_t>(f.size) * f.size + 1;
          py::array_t<float> policy({rows, cols});
          std::copy(f.policy.begin(), f.policy.end(), policy.mutable_data());
          d["size"] = f.size;
          d["komi"] = f.komi;
          d["moves"] = f.moves;
          d["policy"] = policy;
          d["full_search"] = py::array_t<uint8_t>(rows, f.full_search.data());
          d["winner"] = f.winner;
          d["score"] = f.score;
          d["resigned"] = f.resigned;
          d["no_resign"] = f.no_resign;
          d["would_resign"] = f.would_resign;
          out.append(d);
        }
        return out;
      }, "Finished self-play games as dicts (moves, policy targets, winner...).");
}
