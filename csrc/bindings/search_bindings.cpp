// Bindings for csrc/search: the built-in UCT-RAVE search.
// Thread-safety: UctSearch.run releases the GIL; UctSearch.stop may be called from another
// Python thread while run is in progress.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "search/uct.h"

namespace py = pybind11;
using namespace tengen;

void init_search(py::module_& m) {
  py::class_<UctConfig>(m, "UctConfig")
      .def(py::init<>())
      .def_readwrite("max_visits", &UctConfig::max_visits)
      .def_readwrite("max_seconds", &UctConfig::max_seconds)
      .def_readwrite("threads", &UctConfig::threads)
      .def_readwrite("seed", &UctConfig::seed)
      .def_readwrite("exploration", &UctConfig::exploration)
      .def_readwrite("rave_equivalence", &UctConfig::rave_equivalence)
      .def_readwrite("expand_threshold", &UctConfig::expand_threshold)
      .def_readwrite("prior_visits", &UctConfig::prior_visits)
      .def_readwrite("prior_bonus", &UctConfig::prior_bonus);

  py::class_<UctChildStats>(m, "UctChildStats")
      .def_readonly("move", &UctChildStats::move)
      .def_readonly("visits", &UctChildStats::visits)
      .def_readonly("winrate", &UctChildStats::winrate)
      .def_readonly("amaf_visits", &UctChildStats::amaf_visits)
      .def_readonly("amaf_winrate", &UctChildStats::amaf_winrate);

  py::class_<UctResult>(m, "UctResult")
      .def_readonly("best_move", &UctResult::best_move)
      .def_readonly("visits", &UctResult::visits)
      .def_readonly("winrate", &UctResult::winrate)
      .def_readonly("seconds", &UctResult::seconds)
      .def_readonly("children", &UctResult::children)
      .def_readonly("pv", &UctResult::pv);

  py::class_<UctSearch>(m, "UctSearch")
      .def(py::init([](const UctConfig& c) {
             if (c.threads < 1 || c.threads > 256) throw py::value_error("threads must be in 1..256");
             if (c.expand_threshold < 1) throw py::value_error("expand_threshold must be >= 1");
             return std::make_unique<UctSearch>(c);
           }),
           py::arg("config"))
      .def("run", &UctSearch::run, py::arg("game"), py::call_guard<py::gil_scoped_release>(),
           "Searches the game's position for the player to move (GIL released).")
      .def("set_root_priors", &UctSearch::set_root_priors, py::arg("priors"),
           "Move probabilities (size*size + 1, pass last) for the next run's root PUCT term.")
      .def("stop", &UctSearch::stop, "Asks a running search to finish early (thread-safe).")
      .def("peek", &UctSearch::peek, py::call_guard<py::gil_scoped_release>(),
           "Statistics so far of a run in progress on another thread.");
}
