// engine._core: the pybind11 module. One init_<area> per area, defined in its own file.
// Thread-safety: module init runs once under the GIL.
#include <pybind11/pybind11.h>

namespace py = pybind11;

void init_go(py::module_& m);
void init_search(py::module_& m);
void init_batched(py::module_& m);
void init_features(py::module_& m);
void init_rollout(py::module_& m);

PYBIND11_MODULE(_core, m) {
  m.doc() = "tengen's C++ core: Go rules, playouts, search and network input features";
  init_go(m);
  init_search(m);
  init_batched(m);
  init_features(m);
  init_rollout(m);
}
