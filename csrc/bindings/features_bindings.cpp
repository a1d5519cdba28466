// Bindings for csrc/go/features: network input planes written into numpy buffers that Python
// allocates (float32 or uint8), one position, a batch of Games, or a batch replayed from game
// records (corpus shards). Shapes and dtypes are checked here, then the GIL is released.
// Thread-safety: the writers release the GIL and touch only the given Games (which the caller
// must not modify meanwhile) and buffers.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "go/features.h"
#include "go/game.h"

namespace py = pybind11;
using namespace tengen;

namespace {

FeatureSet to_feature_set(const std::string& name) {
  FeatureSet s;
  if (!parse_feature_set(name.c_str(), &s))
    throw py::value_error("unknown feature set '" + name + "' (expected alphago, alphago_value or raw)");
  return s;
}

void check_symmetry(int sym) {
  if (sym < 0 || sym >= kNumSymmetries) throw py::value_error("symmetry must be in 0..7");
}

std::string shape_text(const std::vector<py::ssize_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
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
  std::vector<py::ssize_t> got(a.shape(), a.shape() + a.ndim());
  if (got != shape)
    throw py::value_error(std::string(name) + " has shape " + shape_text(got) + ", expected " + shape_text(shape));
  return kind;
}

template <typename T>
const T* input(const py::array& a, const char* name, py::ssize_t length = -1) {
  if (!a.dtype().is(py::dtype::of<T>()))
    throw py::type_error(std::string(name) + " has dtype " + std::string(py::str(a.dtype())) + ", expected " +
                         std::string(py::str(py::dtype::of<T>())));
  if (a.ndim() != 1 || !(a.flags() & py::array::c_style))
    throw py::value_error(std::string(name) + " must be a contiguous 1-D array");
  if (length >= 0 && a.shape(0) != length)
    throw py::value_error(std::string(name) + " has length " + std::to_string(a.shape(0)) + ", expected " +
                          std::to_string(length));
  return static_cast<const T*>(a.data());
}

void check_offsets(const int64_t* off, py::ssize_t n, py::ssize_t total, const char* name) {
  if (off[0] != 0) throw py::value_error(std::string(name) + " must start at 0");
  for (py::ssize_t i = 0; i < n; ++i)
    if (off[i + 1] < off[i]) throw py::value_error(std::string(name) + " must not decrease");
  if (off[n] != total)
    throw py::value_error(std::string(name) + " must end at the length of the array it indexes");
}

std::vector<py::ssize_t> plane_shape(int planes, int n) { return {planes, n, n}; }

}  // namespace

void init_features(py::module_& m) {
  m.attr("FEATURE_SETS") = py::make_tuple("alphago", "alphago_value", "raw");
  m.attr("NUM_SYMMETRIES") = kNumSymmetries;

  m.def("num_planes", [](const std::string& set) { return num_planes(to_feature_set(set)); },
        py::arg("feature_set"), "Number of input planes of a feature set.");

  m.def("plane_layout", [](const std::string& name) {
    const FeatureSet set = to_feature_set(name);
    std::vector<std::tuple<std::string, int, int>> out;
    if (set == FeatureSet::kRaw) {
      for (int k = 0; k < kRawHistory; ++k) {
        out.emplace_back("own_stones_t-" + std::to_string(k), 2 * k, 1);
        out.emplace_back("opponent_stones_t-" + std::to_string(k), 2 * k + 1, 1);
      }
      out.emplace_back("colour", 2 * kRawHistory, 1);
      return out;
    }
    using namespace agplanes;
    out = {{"stone_colour", kStones, 3},        {"ones", kOnes, 1},
           {"turns_since", kTurnsSince, 8},     {"liberties", kLiberties, 8},
           {"capture_size", kCaptureSize, 8},   {"self_atari_size", kSelfAtari, 8},
           {"liberties_after_move", kLibertiesAfter, 8}, {"ladder_capture", kLadderCapture, 1},
           {"ladder_escape", kLadderEscape, 1}, {"sensibleness", kSensible, 1},
           {"zeros", kZeros, 1}};
    if (set == FeatureSet::kAlphaGoValue) out.emplace_back("player_colour", kColour, 1);
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
    const int* syms = nullptr;
    if (symmetries) {
      syms = input<int32_t>(*symmetries, "symmetries", count);
      for (py::ssize_t i = 0; i < count; ++i) check_symmetry(syms[i]);
    }
    void* mdata = nullptr;
    if (masks) {
      if (check_out(*masks, {count, n * n + 1}, "masks") != kind)
        throw py::type_error("masks must have the same dtype as out");
      mdata = masks->mutable_data();
    }
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
    if (board_size < kMinSize || board_size > kMaxSize) throw py::value_error("unacceptable size");
    const FeatureSet set = to_feature_set(feature_set);
    GameRecords r;
    r.size = board_size;
    r.num_games = game_offsets.ndim() == 1 ? game_offsets.shape(0) - 1 : -1;
    if (r.num_games < 0) throw py::value_error("game_offsets must be 1-D with at least one entry");
    r.game_offsets = input<int64_t>(game_offsets, "game_offsets");
    r.moves = input<int16_t>(moves, "moves");
    r.colors = input<uint8_t>(colors, "colors", moves.shape(0));
    r.setup_offsets = input<int64_t>(setup_offsets, "setup_offsets", r.num_games + 1);
    r.setup_moves = input<int16_t>(setup_moves, "setup_moves");
    r.setup_colors = input<uint8_t>(setup_colors, "setup_colors", setup_moves.shape(0));
    check_offsets(r.game_offsets, r.num_games, moves.shape(0), "game_offsets");
    check_offsets(r.setup_offsets, r.num_games, setup_moves.shape(0), "setup_offsets");
    const py::ssize_t count = sample_game.ndim() == 1 ? sample_game.shape(0) : 0;
    const int64_t* sg = input<int64_t>(sample_game, "sample_game");
    const int32_t* sm = input<int32_t>(sample_move, "sample_move", count);
    const int n = board_size;
    const int kind = check_out(out, {count, num_planes(set), n, n}, "out");
    const int* syms = nullptr;
    if (symmetries) {
      syms = input<int32_t>(*symmetries, "symmetries", count);
      for (py::ssize_t i = 0; i < count; ++i) check_symmetry(syms[i]);
    }
    void* mdata = nullptr;
    if (masks) {
      if (check_out(*masks, {count, n * n + 1}, "masks") != kind)
        throw py::type_error("masks must have the same dtype as out");
      mdata = masks->mutable_data();
    }
    int64_t* tdata = nullptr;
    if (targets) {
      if (!targets->dtype().is(py::dtype::of<int64_t>()) || targets->ndim() != 1 || targets->shape(0) != count ||
          !(targets->flags() & py::array::c_style) || !targets->writeable())
        throw py::value_error("targets must be a writable int64 array of shape (batch,)");
      tdata = static_cast<int64_t*>(targets->mutable_data());
    }
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
