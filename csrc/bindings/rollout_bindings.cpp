// Bindings for csrc/go/rollout: the rollout policy's pattern features (for training in Python,
// written into numpy buffers, also replayed from game records) and the C++ policy itself
// (move probabilities, sampling, playouts, a timing loop).
// Thread-safety: long calls release the GIL; a RolloutPolicy is immutable and may be used from
// several Python threads at once.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "go/features.h"
#include "go/game.h"
#include "go/rollout.h"
#include "bindings/numpy_args.h"

namespace py = pybind11;
using namespace tengen;
using namespace tengen::bindings;

void init_rollout(py::module_& m) {
  m.attr("ROLLOUT_FEATURES") = kRolloutFeatures;
  m.attr("ROLLOUT_ACTIVE") = kRolloutActive;
  m.def("rollout_feature_layout", []() {
    using namespace rollout_ids;
    return std::vector<std::tuple<std::string, int, int>>{
        {"pattern_3x3", kPattern, kPatternCount}, {"response", kResponse, 3}, {"capture", kCapture, 2},
        {"save", kSave, 1}, {"self_atari", kSelfAtari, 1}, {"atari", kAtari, 1}, {"line", kLine, 4}};
  }, "(name, first id, count) of each rollout feature group.");
  m.def("canonical_pattern", &canonical_pattern, py::arg("code"),
        "Canonical id of a 3x3 code (2 bits per neighbour clockwise from north: 0 empty, 1 own, 2 "
        "opponent, 3 off-board) under the 8 symmetries.");

  m.def("rollout_features", [](const Game& g, py::array ids, py::array candidates) {
    const int n2 = g.size() * g.size();
    int32_t* id = output_array<int32_t>(ids, {n2, kRolloutActive}, "ids");
    uint8_t* cand = output_array<uint8_t>(candidates, {n2}, "candidates");
    py::gil_scoped_release release;
    return rollout_features(g.board(), g.to_move(), last_move_point(g), id, cand);
  }, py::arg("game"), py::arg("ids"), py::arg("candidates"),
     "Feature ids (size*size, ROLLOUT_ACTIVE) int32, -1 padded, and candidate flags (size*size,) uint8 "
     "for the player to move; returns the number of candidates.");

  m.def("replay_rollout_features", [](int board_size, py::array game_offsets, py::array moves, py::array colors,
                                      py::array setup_offsets, py::array setup_moves, py::array setup_colors,
                                      py::array sample_game, py::array sample_move, py::array ids,
                                      py::array candidates, py::array targets, int threads) {
    const GameRecords r =
        game_records(board_size, game_offsets, moves, colors, setup_offsets, setup_moves, setup_colors);
    const py::ssize_t count = sample_game.ndim() == 1 ? sample_game.shape(0) : 0;
    const int64_t* sg = input_array<int64_t>(sample_game, "sample_game");
    const int32_t* sm = input_array<int32_t>(sample_move, "sample_move", count);
    const int n2 = board_size * board_size;
    int32_t* id = output_array<int32_t>(ids, {count, n2, kRolloutActive}, "ids");
    uint8_t* cand = output_array<uint8_t>(candidates, {count, n2}, "candidates");
    int64_t* tgt = output_array<int64_t>(targets, {count}, "targets");
    const size_t istride = static_cast<size_t>(n2) * kRolloutActive;
    py::gil_scoped_release release;
    return replay_records(
        r, sg, sm, static_cast<int>(count), 1, threads,
        [&](int i, const PositionView& v, int target) {
          rollout_features(*v.boards[0], v.to_move, last_move_point(v), id + istride * i,
                           cand + static_cast<size_t>(n2) * i);
          tgt[i] = target;
        },
        [&](int i) {
          std::fill(id + istride * i, id + istride * (i + 1), -1);
          std::fill(cand + static_cast<size_t>(n2) * i, cand + static_cast<size_t>(n2) * (i + 1), uint8_t{0});
          tgt[i] = -1;
        });
  }, py::arg("board_size"), py::arg("game_offsets"), py::arg("moves"), py::arg("colors"),
     py::arg("setup_offsets"), py::arg("setup_moves"), py::arg("setup_colors"), py::arg("sample_game"),
     py::arg("sample_move"), py::arg("ids"), py::arg("candidates"), py::arg("targets"), py::arg("threads") = 1,
     "Rollout features of positions replayed from game records (see replay_features); targets get the move "
     "played (dense, pass = size*size) or -1. Returns the number of failed samples.");

  py::class_<RolloutPolicy, std::shared_ptr<RolloutPolicy>>(m, "RolloutPolicy",
      "AlphaGo-style rollout policy: linear softmax over local pattern features, run in C++.")
      .def(py::init([](py::array weights) {
             const float* w = input_array<float>(weights, "weights", kRolloutFeatures);
             return std::make_shared<RolloutPolicy>(std::vector<float>(w, w + kRolloutFeatures));
           }),
           py::arg("weights"), "weights: float32 array of ROLLOUT_FEATURES entries (copied).")
      .def("probabilities", [](const RolloutPolicy& p, const Game& g) {
        const int n = g.size();
        py::array_t<float> out({n * n});
        float* data = out.mutable_data();
        {
          py::gil_scoped_release release;
          p.probabilities(g.board(), g.to_move(), last_move_point(g), data);
        }
        return out;
      }, py::arg("game"), "Move probabilities (size*size,) for the player to move; zero off candidates.")
      .def("best_move", [](const RolloutPolicy& p, const Game& g) {
        const int pt = p.best_move(g.board(), g.to_move(), last_move_point(g));
        return g.to_move_index(pt);
      }, py::arg("game"), "The most probable move (size*size = pass when there is no candidate).")
      .def("sample_move", [](const RolloutPolicy& p, const Game& g, uint64_t seed) {
        Rng rng(seed);
        return g.to_move_index(p.sample_move(g.board(), g.to_move(), last_move_point(g), rng));
      }, py::arg("game"), py::arg("seed"))
      .def("playout", [](const RolloutPolicy& p, const Game& g, uint64_t seed) {
        py::gil_scoped_release release;
        Board b = g.board();
        Rng rng(seed);
        const PlayoutResult r = p.playout(b, g.to_move(), last_move_point(g), rng);
        return std::make_tuple(r.area_difference, r.moves_played);
      }, py::arg("game"), py::arg("seed"),
         "Plays the policy against itself from the game's position to the end: (black minus white area, moves).")
      .def("benchmark", [](const RolloutPolicy& p, int size, int playouts, uint64_t seed, int threads) {
        if (size < kMinSize || size > kMaxSize) throw py::value_error("unacceptable size");
        py::gil_scoped_release release;
        std::atomic<int> next{0};
        std::atomic<long long> moves{0};
        const auto start = std::chrono::steady_clock::now();
        std::vector<std::thread> pool;
        for (int t = 0; t < std::max(1, threads); ++t)
          pool.emplace_back([&, t]() {
            Rng rng(seed + 7919 * static_cast<uint64_t>(t));
            long long local = 0;
            while (next.fetch_add(1) < playouts) {
              Board b(size);
              local += p.playout(b, BLACK, kNoPoint, rng).moves_played;
            }
            moves += local;
          });
        for (auto& th : pool) th.join();
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return std::make_tuple(playouts, moves.load(), secs);
      }, py::arg("size"), py::arg("playouts"), py::arg("seed") = 1, py::arg("threads") = 1,
         "Rollouts from the empty board timed in C++: (playouts, moves, seconds).");

  m.def("rollout_playout", [](const RolloutPolicy& p, const Game& g, uint64_t seed) {
    py::gil_scoped_release release;
    Board b = g.board();
    Rng rng(seed);
    const PlayoutResult r = p.playout(b, g.to_move(), last_move_point(g), rng);
    return std::make_tuple(r.area_difference, r.moves_played);
  }, py::arg("policy"), py::arg("game"), py::arg("seed"),
     "One rollout with the policy from the game's position: (black minus white area, moves played).");
}
