// Bindings for the batched search (csrc/search/batched.h): SearchConfig (expanded from the
// settings tables of csrc/search/search_config.h, so every field is bound exactly once), the
// root statistics, BatchedSearch, and puct_scores, a test hook over the PUCT formula the tree
// selects with (csrc/search/tree.h).
// Thread-safety: gather/scatter release the GIL and touch only C++ state and the numpy
// buffers handed over by set_buffers, which the Python wrapper keeps alive.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "search/batched.h"
#include "search/search_config.h"
#include "search/tree.h"

namespace py = pybind11;
using namespace tengen;

namespace {

using FloatArray = py::array_t<float, py::array::c_style>;
using SearchConfigClass = py::class_<SearchConfig>;

float* checked(FloatArray& a, py::ssize_t rows, py::ssize_t row_len, const char* what) {
  if (a.ndim() < 1 || a.shape(0) < rows || a.size() != a.shape(0) * row_len)
    throw py::value_error(std::string("buffer '") + what + "' has the wrong shape: need " + std::to_string(rows) +
                          " rows of " + std::to_string(row_len) + " float32 values");
  return a.mutable_data();
}

PolicyMode policy_from_string(const std::string& s) {
  PolicyMode m;
  if (!parse_policy_mode(s, &m))
    throw py::value_error("policy must be one of " + policy_mode_choices() + " (got '" + s + "')");
  return m;
}

// A field's Python name: its C++ name, with a trailing underscore where that is a keyword.
std::string python_name(const char* name) {
  const py::object iskeyword = py::module_::import("keyword").attr("iskeyword");
  return iskeyword(name).cast<bool>() ? std::string(name) + "_" : std::string(name);
}

template <typename T>
void bind_field(SearchConfigClass& cls, const char* name, T SearchConfig::*member, const char* doc) {
  cls.def_readwrite(python_name(name).c_str(), member, doc);
}

// The policy mode travels as its name.
void bind_field(SearchConfigClass& cls, const char* name, PolicyMode SearchConfig::*member, const char* doc) {
  cls.def_property(
      python_name(name).c_str(), [member](const SearchConfig& c) { return std::string(policy_mode_name(c.*member)); },
      [member](SearchConfig& c, const std::string& s) { c.*member = policy_from_string(s); }, doc);
}

template <typename T>
py::object python_value(const T& v) {
  return py::cast(v);
}
py::object python_value(PolicyMode m) { return py::str(policy_mode_name(m)); }

void bind_search_config(py::module_& m) {
  SearchConfigClass cls(m, "SearchConfig",
                        "Settings of the batched search (csrc/search/search_config.h); search fields first, then "
                        "the self-play fields (selfplay_fields()).");
  cls.def(py::init<>());
#define TENGEN_BIND_SETTING(type, name, default_value, comment) bind_field(cls, #name, &SearchConfig::name, comment);
  TENGEN_SEARCH_SETTINGS(TENGEN_BIND_SETTING)
  TENGEN_SELFPLAY_SETTINGS(TENGEN_BIND_SETTING)
#undef TENGEN_BIND_SETTING
  cls.def_static("field_defaults", []() {
    const SearchConfig defaults;
    py::dict out;
#define TENGEN_SETTING_DEFAULT(type, name, default_value, comment) out[py::str(python_name(#name))] = python_value(defaults.name);
    TENGEN_SEARCH_SETTINGS(TENGEN_SETTING_DEFAULT)
    TENGEN_SELFPLAY_SETTINGS(TENGEN_SETTING_DEFAULT)
#undef TENGEN_SETTING_DEFAULT
    return out;
  }, "{python name: default} for every field, in declaration order (the policy as its name).");
  cls.def_static("selfplay_fields", []() {
    std::vector<std::string> out;
#define TENGEN_SETTING_NAME(type, name, default_value, comment) out.push_back(python_name(#name));
    TENGEN_SELFPLAY_SETTINGS(TENGEN_SETTING_NAME)
#undef TENGEN_SETTING_NAME
    return out;
  }, "Python names of the fields only the self-play driver reads.");
}

}  // namespace

void init_batched(py::module_& m) {
  // The tree-prior modes SearchConfig.policy accepts, named once (search_config.cpp).
  py::tuple modes(4);
  const PolicyMode all[] = {PolicyMode::Net, PolicyMode::Uniform, PolicyMode::Heuristic, PolicyMode::Rollout};
  for (size_t i = 0; i < 4; ++i) modes[i] = py::str(policy_mode_name(all[i]));
  m.attr("POLICY_MODES") = modes;
  bind_search_config(m);

  m.def("puct_scores", [](const std::vector<int>& visits, const std::vector<float>& value_sums,
                          const std::vector<int>& in_flight, const std::vector<float>& priors, int parent_visits,
                          float parent_value_sum, float c_puct, float c_puct_base, float fpu_reduction,
                          float virtual_loss) {
    const size_t n = visits.size();
    if (value_sums.size() != n || in_flight.size() != n || priors.size() != n)
      throw py::value_error("visits, value_sums, in_flight and priors must have the same length");
    PuctParams params;
    params.c_puct = c_puct;
    params.c_puct_base = c_puct_base;
    params.fpu_reduction = fpu_reduction;
    params.virtual_loss = virtual_loss;
    const PuctParent parent = puct_parent(parent_visits, parent_value_sum, params);
    std::vector<float> out(n);
    for (size_t i = 0; i < n; ++i) out[i] = puct_score(parent, visits[i], value_sums[i], in_flight[i], priors[i], virtual_loss);
    return out;
  }, py::arg("visits"), py::arg("value_sums"), py::arg("in_flight"), py::arg("priors"), py::arg("parent_visits"),
     py::arg("parent_value_sum"), py::arg("c_puct"), py::arg("c_puct_base"), py::arg("fpu_reduction"),
     py::arg("virtual_loss"),
     "Test hook: the PUCT score of each child (completed visits, value sums for the mover, leaves in flight, "
     "priors) under a parent with parent_visits and parent_value_sum, as the tree's selection computes it.");

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
          d["ownership"] = py::array_t<int8_t>(static_cast<py::ssize_t>(f.ownership.size()), f.ownership.data());
          out.append(d);
        }
        return out;
      }, "Finished self-play games as dicts (moves, policy targets, winner...).");
}
