// Checked numpy arguments for the bindings: typed 1-D inputs, typed output buffers of an exact
// shape, and game records (corpus shards) given as flat arrays. Each check throws TypeError for a
// wrong dtype and ValueError for a wrong shape, layout or content, naming the argument.
//
// Thread-safety: call with the GIL held (they read numpy array headers); the pointers returned
// stay valid while the caller keeps the arrays alive, also after releasing the GIL.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "go/board.h"
#include "go/features.h"

namespace tengen::bindings {

namespace py = pybind11;

inline std::string shape_text(const std::vector<py::ssize_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

inline std::vector<py::ssize_t> shape_of(const py::array& a) { return {a.shape(), a.shape() + a.ndim()}; }

template <typename T>
std::string dtype_name() {
  return std::string(py::str(py::dtype::of<T>()));
}

// A contiguous 1-D array of T (of `length` entries when length >= 0).
template <typename T>
const T* input_array(const py::array& a, const char* name, py::ssize_t length = -1) {
  if (!a.dtype().is(py::dtype::of<T>()))
    throw py::type_error(std::string(name) + " has dtype " + std::string(py::str(a.dtype())) + ", expected " +
                         dtype_name<T>());
  if (a.ndim() != 1 || !(a.flags() & py::array::c_style))
    throw py::value_error(std::string(name) + " must be a contiguous 1-D array");
  if (length >= 0 && a.shape(0) != length)
    throw py::value_error(std::string(name) + " has the wrong length: " + std::to_string(a.shape(0)) +
                          ", expected " + std::to_string(length));
  return static_cast<const T*>(a.data());
}

// A writable C-contiguous array of T with exactly this shape.
template <typename T>
T* output_array(py::array& a, const std::vector<py::ssize_t>& shape, const char* name) {
  if (!a.dtype().is(py::dtype::of<T>()))
    throw py::type_error(std::string(name) + " must have dtype " + dtype_name<T>());
  if (!(a.flags() & py::array::c_style) || !a.writeable())
    throw py::value_error(std::string(name) + " must be a writable C-contiguous array");
  if (shape_of(a) != shape)
    throw py::value_error(std::string(name) + " has shape " + shape_text(shape_of(a)) + ", expected " +
                          shape_text(shape));
  return static_cast<T*>(a.mutable_data());
}

// Offsets into an array of `total` entries for n items: start at 0, never decrease, end at total.
inline void check_offsets(const int64_t* off, py::ssize_t n, py::ssize_t total, const char* name) {
  if (off[0] != 0) throw py::value_error(std::string(name) + " must start at 0");
  for (py::ssize_t i = 0; i < n; ++i)
    if (off[i + 1] < off[i]) throw py::value_error(std::string(name) + " must not decrease");
  if (off[n] != total)
    throw py::value_error(std::string(name) + " must end at the length of the array it indexes");
}

// Game records from flat arrays (int64 offsets, int16 dense moves, uint8 colours; see
// features.h GameRecords), checked for dtypes, lengths and offsets.
inline GameRecords game_records(int board_size, const py::array& game_offsets, const py::array& moves,
                                const py::array& colors, const py::array& setup_offsets,
                                const py::array& setup_moves, const py::array& setup_colors) {
  if (board_size < kMinSize || board_size > kMaxSize) throw py::value_error("unacceptable size");
  GameRecords r;
  r.size = board_size;
  r.num_games = game_offsets.ndim() == 1 ? game_offsets.shape(0) - 1 : -1;
  if (r.num_games < 0) throw py::value_error("game_offsets must be 1-D with at least one entry");
  r.game_offsets = input_array<int64_t>(game_offsets, "game_offsets");
  r.moves = input_array<int16_t>(moves, "moves");
  r.colors = input_array<uint8_t>(colors, "colors", moves.shape(0));
  r.setup_offsets = input_array<int64_t>(setup_offsets, "setup_offsets", r.num_games + 1);
  r.setup_moves = input_array<int16_t>(setup_moves, "setup_moves");
  r.setup_colors = input_array<uint8_t>(setup_colors, "setup_colors", setup_moves.shape(0));
  check_offsets(r.game_offsets, r.num_games, moves.shape(0), "game_offsets");
  check_offsets(r.setup_offsets, r.num_games, setup_moves.shape(0), "setup_offsets");
  return r;
}

}  // namespace tengen::bindings
