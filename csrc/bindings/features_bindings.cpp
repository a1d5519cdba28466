// Bindings for csrc/go/features: network input planes written into numpy buffers that Python
// allocates (float32 or uint8), one position, a batch of Games, or a batch replayed from game
// records (corpus shards); the feature-set table (csrc/go/feature_sets.h) behind FEATURE_SETS,
// feature_sets(), num_planes and plane_layout. Shapes and dtypes are checked here, then the GIL
// is released.
// Thread-safety: the writers release the GIL and touch only the given Games (which the caller
// must not modify meanwhile) and buffers.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "go/feature_sets.h"
#include "go/features.h"
#include "go/game.h"
#include "bindings/numpy_args.h"

namespace py = pybind11;
using namespace tengen;
using namespace tengen::bindings;

namespace {

const FeatureSetInfo& feature_set_named(const std::string& name) {
  const FeatureSetInfo* info = find_feature_set(name);
  if (!info) throw py::value_error("unknown feature set '" + name + "' (expected " + feature_set_choices() + ")");
  return *info;
}

FeatureSet to_feature_set(const std::string& name) { return feature_set_named(name).id; }

void check_symmetry(int sym) {
  if (sym < 0 || sym >= kNumSymmetries) throw py::value_error("symmetry must be in 0..7");
}

// Checks that `a` is a writable C-contiguous array of the given shape; returns its dtype kind:
// 0 = float32, 1 = uint8.
int check_out(const py::array& a, const std::vector<py::ssize_t>& shape, const char* name) {
  int kind;
  if (a.dtype().is(py::dtype::of<float>()))
    kind = 0;
  else if (a.dtype().is(py::dtype::of<uint8_t>()))
    kind = 1;
  else
    throw py::type_error(std::string(name) + " must be a float32 or uint8 array");
  if (!(a.flags() & py::array::c_style)) throw py::value_error(std::string(name) + " must be C-contiguous");
  if (!a.writeable()) throw py::value_error(std::string(name) + " must be writable");
  if (shape_of(a) != shape)
    throw py::value_error(std::string(name) + " has shape " + shape_text(shape_of(a)) + ", expected " +
                          shape_text(shape));
  return kind;
}

// Optional int32 symmetries, one per position (nullptr: identity).
const int* checked_symmetries(const std::optional<py::array>& symmetries, py::ssize_t count) {
  if (!symmetries) return nullptr;
  const int* syms = input_array<int32_t>(*symmetries, "symmetries", count);
  for (py::ssize_t i = 0; i < count; ++i) check_symmetry(syms[i]);
  return syms;
}

// Optional legal-move masks (count, size*size + 1) of the output's dtype kind (nullptr: none).
void* checked_masks(std::optional<py::array>& masks, py::ssize_t count, int size, int kind) {
  if (!masks) return nullptr;
  if (check_out(*masks, {count, size * size + 1}, "masks") != kind)
    throw py::type_error("masks must have the same dtype as out");
  return masks->mutable_data();
}

std::vector<py::ssize_t> plane_shape(int planes, int n) { return {planes, n, n}; }

}  // namespace

void init_features(py::module_& m) {
  py::tuple names(feature_set_table().size());
  for (size_t i = 0; i < feature_set_table().size(); ++i) names[i] = feature_set_table()[i].name;
  m.attr("FEATURE_SETS") = names;
  m.attr("NUM_SYMMETRIES") = kNumSymmetries;

  m.def("feature_sets", &feature_set_names, "Names of the registered input feature sets.");
  m.def("num_planes", [](const std::string& set) { return feature_set_named(set).planes; },
        py::arg("feature_set"), "Number of input planes of a feature set.");

  m.def("plane_layout", [](const std::string& name) {
    std::vector<std::tuple<std::string, int, int>> out;
    for (const PlaneGroup& g : feature_set_named(name).layout) out.emplace_back(g.name, g.first, g.count);
    return out;
  }, py::arg("feature_set"), "(name, first plane, plane count) for each group of a feature set.");

  m.def("symmetry_index", [](int move, int symmetry, int size) {
    check_symmetry(symmetry);
    if (size < kMinSize || size > kMaxSize) throw py::value_error("unacceptable size");
    if (move < 0 || move > size * size) throw py::value_error("move " + std::to_string(move) + " is off the board");
    return symmetry_index(move, symmetry, size);
  }, py::arg("move"), py::arg("symmetry"), py::arg("size"),
     "Where a board move lands in planes written under `symmetry` (pass maps to pass).");
  m.def("inverse_symmetry", [](int symmetry) {
    check_symmetry(symmetry);
    return inverse_symmetry(symmetry);
  }, py::arg("symmetry"), "The symmetry that undoes `symmetry`.");
  m.def("symmetry_permutation", [](int symmetry, int size) {
    check_symmetry(symmetry);
    if (size < kMinSize || size > kMaxSize) throw py::value_error("unacceptable size");
    const int n = size * size + 1;
    py::array_t<int64_t> out(n);
    auto w = out.mutable_unchecked<1>();
    for (int i = 0; i < n; ++i) w(i) = symmetry_index(i, symmetry, size);
    return out;
  }, py::arg("symmetry"), py::arg("size"),
     "perm[m] = symmetry_index(m, symmetry, size) for every move m (pass included): "
     "policy_on_board = policy_in_planes[perm].");

  m.def("move_effect", [](const Game& g, int color, int move) {
    if (color != BLACK && color != WHITE) throw py::value_error("color must be 1 (black) or 2 (white)");
    if (move < 0 || move >= g.size() * g.size()) throw py::value_error("move must be a board point");
    const Board& b = g.board();
    const int p = b.from_index(move);
    if (b.at(p) != EMPTY) throw py::value_error("the point is occupied");
    const MoveEffect e = analyze_move(b, p, Color(color));
    return std::make_tuple(e.captured, e.chain_size, e.liberties);
  }, py::arg("game"), py::arg("color"), py::arg("move"),
     "(stones captured, size of the move's chain, its liberties) if `color` played `move`.");
  m.def("is_ladder_capture", [](const Game& g, int color, int move) {
    if (color != BLACK && color != WHITE) throw py::value_error("color must be 1 (black) or 2 (white)");
    if (move < 0 || move >= g.size() * g.size()) return false;
    return is_ladder_capture(g.board(), g.board().from_index(move), Color(color));
  }, py::arg("game"), py::arg("color"), py::arg("move"));
  m.def("is_ladder_escape", [](const Game& g, int color, int move) {
    if (color != BLACK && color != WHITE) throw py::value_error("color must be 1 (black) or 2 (white)");
    if (move < 0 || move >= g.size() * g.size()) return false;
    return is_ladder_escape(g.board(), g.board().from_index(move), Color(color));
  }, py::arg("game"), py::arg("color"), py::arg("move"));

  m.def("write_features", [](const Game& g, py::array out, const std::string& feature_set, int symmetry) {
    const FeatureSet set = to_feature_set(feature_set);
    check_symmetry(symmetry);
    const int kind = check_out(out, plane_shape(num_planes(set), g.size()), "out");
    void* data = out.mutable_data();
    py::gil_scoped_release release;
    if (kind == 0)
      write_features(g, set, symmetry, static_cast<float*>(data));
    else
      write_features(g, set, symmetry, static_cast<uint8_t*>(data));
  }, py::arg("game"), py::arg("out"), py::arg("feature_set") = "alphago", py::arg("symmetry") = 0,
     "Writes the planes of the position (player to move) into out, shape (planes, size, size).");

  m.def("write_move_mask", [](const Game& g, py::array out, int symmetry, bool sensible) {
    check_symmetry(symmetry);
    const int kind = check_out(out, {g.size() * g.size() + 1}, "out");
    void* data = out.mutable_data();
    py::gil_scoped_release release;
    if (kind == 0)
      write_move_mask(g, symmetry, sensible, static_cast<float*>(data));
    else
      write_move_mask(g, symmetry, sensible, static_cast<uint8_t*>(data));
  }, py::arg("game"), py::arg("out"), py::arg("symmetry") = 0, py::arg("sensible") = false,
     "1 on legal moves (sensible: also not filling an own eye) of the player to move; pass last, always 1.");

  m.def("write_features_batch", [](py::sequence games, py::array out, const std::string& feature_set,
                                   std::optional<py::array> symmetries, std::optional<py::array> masks,
                                   int threads) {
    const FeatureSet set = to_feature_set(feature_set);
    const py::ssize_t count = py::len(games);
    std::vector<const Game*> ptrs;
    ptrs.reserve(static_cast<size_t>(count));
    for (py::handle h : games) ptrs.push_back(h.cast<const Game*>());
    if (count == 0) return;
    const int n = ptrs[0]->size();
    for (const Game* g : ptrs)
      if (g->size() != n) throw py::value_error("all games of a batch must have the same board size");
    const int kind = check_out(out, {count, num_planes(set), n, n}, "out");
    const int* syms = checked_symmetries(symmetries, count);
    void* mdata = checked_masks(masks, count, n, kind);
    void* data = out.mutable_data();
    py::gil_scoped_release release;
    if (kind == 0)
      write_features_batch(ptrs.data(), static_cast<int>(count), set, syms, static_cast<float*>(data),
                           static_cast<float*>(mdata), threads);
    else
      write_features_batch(ptrs.data(), static_cast<int>(count), set, syms, static_cast<uint8_t*>(data),
                           static_cast<uint8_t*>(mdata), threads);
  }, py::arg("games"), py::arg("out"), py::arg("feature_set") = "alphago", py::arg("symmetries") = py::none(),
     py::arg("masks") = py::none(), py::arg("threads") = 1,
     "Planes of many games into out (batch, planes, size, size); symmetries int32 (batch,); masks "
     "(batch, size*size+1) gets legal-move masks.");

  m.def("replay_features", [](int board_size, py::array game_offsets, py::array moves, py::array colors,
                              py::array setup_offsets, py::array setup_moves, py::array setup_colors,
                              py::array sample_game, py::array sample_move, py::array out,
                              const std::string& feature_set, std::optional<py::array> symmetries,
                              std::optional<py::array> masks, std::optional<py::array> targets, int threads) {
    const GameRecords r =
        game_records(board_size, game_offsets, moves, colors, setup_offsets, setup_moves, setup_colors);
    const FeatureSet set = to_feature_set(feature_set);
    const py::ssize_t count = sample_game.ndim() == 1 ? sample_game.shape(0) : 0;
    const int64_t* sg = input_array<int64_t>(sample_game, "sample_game");
    const int32_t* sm = input_array<int32_t>(sample_move, "sample_move", count);
    const int n = board_size;
    const int kind = check_out(out, {count, num_planes(set), n, n}, "out");
    const int* syms = checked_symmetries(symmetries, count);
    void* mdata = checked_masks(masks, count, n, kind);
    int64_t* tdata = targets ? output_array<int64_t>(*targets, {count}, "targets") : nullptr;
    void* data = out.mutable_data();
    py::gil_scoped_release release;
    if (kind == 0)
      return replay_features(r, sg, sm, static_cast<int>(count), set, syms, static_cast<float*>(data),
                             static_cast<float*>(mdata), tdata, threads);
    return replay_features(r, sg, sm, static_cast<int>(count), set, syms, static_cast<uint8_t*>(data),
                           static_cast<uint8_t*>(mdata), tdata, threads);
  }, py::arg("board_size"), py::arg("game_offsets"), py::arg("moves"), py::arg("colors"),
     py::arg("setup_offsets"), py::arg("setup_moves"), py::arg("setup_colors"), py::arg("sample_game"),
     py::arg("sample_move"), py::arg("out"), py::arg("feature_set") = "alphago",
     py::arg("symmetries") = py::none(), py::arg("masks") = py::none(), py::arg("targets") = py::none(),
     py::arg("threads") = 1,
     "Replays game records (int64 offsets, int16 moves, uint8 colours) to each sample's move number and "
     "writes its planes, legal mask and symmetry-mapped target move; returns how many samples failed "
     "(their target is -1).");
}
