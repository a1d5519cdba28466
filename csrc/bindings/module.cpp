// engine._core: the pybind11 module. One init_<area> per area, defined in its own file.
// Thread-safety: module init runs once under the GIL; the exception translator runs with the GIL
// held, on whichever thread raised.
#include <pybind11/pybind11.h>

#include <stdexcept>

namespace py = pybind11;

void init_go(py::module_& m);
void init_search(py::module_& m);
void init_batched(py::module_& m);
void init_features(py::module_& m);
void init_rollout(py::module_& m);

namespace {

// The core refusing an input (a bad size, colour, move, komi, setting) reaches Python as
// engine.errors.CoreError, the user-facing error type (it is also a ValueError). Logic errors
// (calls in the wrong order) stay RuntimeError: they are bugs, not user input.
void register_core_error(py::module_& m) {
  static py::handle core_error;
  py::object cls = py::module_::import("engine.errors").attr("CoreError");
  core_error = cls.release();  // kept for the life of the process, as the translator is
  m.attr("CoreError") = core_error;
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const py::value_error& e) {
      PyErr_SetString(core_error.ptr(), e.what());
    } catch (const std::invalid_argument& e) {
      PyErr_SetString(core_error.ptr(), e.what());
    } catch (const std::domain_error& e) {
      PyErr_SetString(core_error.ptr(), e.what());
    }
  });
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "tengen's C++ core: Go rules, playouts, search and network input features";
  register_core_error(m);
  init_go(m);
  init_search(m);
  init_batched(m);
  init_features(m);
  init_rollout(m);
}
