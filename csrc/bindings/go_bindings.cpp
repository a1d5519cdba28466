// Bindings for csrc/go: Game (rules, history, scoring) and playout helpers.
// Thread-safety: every call holds the GIL except the long ones marked gil_scoped_release,
// which touch only C++ objects the caller keeps alive.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cmath>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "go/game.h"
#include "go/playout.h"

namespace py = pybind11;
using namespace tengen;

namespace {

Color to_color(int c) {
  if (c != BLACK && c != WHITE) throw py::value_error("color must be 1 (black) or 2 (white)");
  return Color(c);
}

void check_move(const Game& g, int move) {
  if (move < 0 || move > g.pass_move())
    throw py::value_error("move " + std::to_string(move) + " is off the board");
}

float check_komi(float komi) {
  if (!std::isfinite(komi)) throw py::value_error("komi must be a finite number");
  return komi;
}

int check_playouts(int playouts) {
  if (playouts < 0) throw py::value_error("playouts must be >= 0");
  return playouts;
}

py::array_t<uint8_t> board_array(const Game& g) {
  const int n = g.size();
  py::array_t<uint8_t> out({n, n});
  auto w = out.mutable_unchecked<2>();
  const Board& b = g.board();
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) w(y, x) = b.at(b.point(x, y));
  return out;
}

struct PlayoutBench {
  long long playouts;
  long long moves;
  double seconds;
};

PlayoutBench playout_benchmark(int size, int playouts, uint64_t seed, int threads) {
  std::atomic<long long> done{0}, moves{0};
  auto start = std::chrono::steady_clock::now();
  auto work = [&](int t) {
    Rng rng(seed + 101 * static_cast<uint64_t>(t));
    Board empty(size);
    Board b(size);
    long long local_moves = 0;
    while (done.fetch_add(1) < playouts) {
      b = empty;
      local_moves += light_playout(b, BLACK, rng).moves_played;
    }
    moves += local_moves;
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, threads); ++t) pool.emplace_back(work, t);
  for (auto& th : pool) th.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return PlayoutBench{playouts, moves.load(), secs};
}

}  // namespace

void init_go(py::module_& m) {
  m.attr("EMPTY") = static_cast<int>(EMPTY);
  m.attr("BLACK") = static_cast<int>(BLACK);
  m.attr("WHITE") = static_cast<int>(WHITE);
  m.attr("MIN_SIZE") = kMinSize;
  m.attr("MAX_SIZE") = kMaxSize;
  m.attr("DEFAULT_KOMI") = Rules{}.komi;  // the one default komi (area scoring, 7.5)

  py::class_<Game>(m, "Game", R"doc(A game of Go: board, rules, history.

Moves are dense indices x + y * size (x = column from the left, y = row from the top);
size * size is the pass move. Colours are 1 (black) and 2 (white).)doc")
      .def(py::init([](int size, float komi, bool superko, bool allow_suicide) {
             if (size < kMinSize || size > kMaxSize) throw py::value_error("unacceptable size");
             Rules r;
             r.komi = check_komi(komi);
             r.superko = superko;
             r.allow_suicide = allow_suicide;
             return Game(size, r);
           }),
           py::arg("size") = 9, py::arg("komi") = 7.5f, py::arg("superko") = true,
           py::arg("allow_suicide") = false)
      .def_property_readonly("size", &Game::size)
      .def_property("komi", [](const Game& g) { return g.rules().komi; },
                    [](Game& g, float komi) { g.set_komi(check_komi(komi)); })
      .def_property_readonly("superko", [](const Game& g) { return g.rules().superko; })
      .def_property_readonly("allow_suicide", [](const Game& g) { return g.rules().allow_suicide; })
      .def_property(
          "to_move", [](const Game& g) { return static_cast<int>(g.to_move()); },
          [](Game& g, int c) { g.set_to_move(to_color(c)); })
      .def_property_readonly("pass_move", &Game::pass_move)
      .def_property_readonly("consecutive_passes", &Game::consecutive_passes)
      .def_property_readonly("is_over", &Game::is_over)
      .def_property_readonly("move_number", [](const Game& g) { return g.moves().size(); })
      .def_property_readonly("num_setup_stones", &Game::num_setup_stones)
      .def_property_readonly("hash", [](const Game& g) { return g.board().hash(); })
      .def_property_readonly("ko_move", [](const Game& g) -> std::optional<int> {
        const int p = g.board().ko_point();
        if (p == kNoPoint) return std::nullopt;
        return g.board().to_index(p);
      })
      .def("captures", [](const Game& g, int c) { return g.board().captures(to_color(c)); }, py::arg("color"),
           "Stones captured so far by `color`.")
      .def("moves", [](const Game& g) {
        std::vector<std::pair<int, int>> out;
        for (const auto& r : g.moves()) out.emplace_back(static_cast<int>(r.color), r.move);
        return out;
      }, "The moves played so far as (color, move) pairs.")
      .def("illegal_reason", [](const Game& g, int color, int move) -> std::optional<std::string> {
        const char* why = g.illegal_reason(move, to_color(color));
        if (!why) return std::nullopt;
        return std::string(why);
      }, py::arg("color"), py::arg("move"), "None when legal, else a short reason (occupied, ko, suicide, superko, off board).")
      .def("is_legal", [](const Game& g, int color, int move) { return g.is_legal(move, to_color(color)); },
           py::arg("color"), py::arg("move"))
      .def("legal_moves", [](const Game& g, int color) {
        const Color c = to_color(color);
        std::vector<int> out;
        for (int mv = 0; mv <= g.pass_move(); ++mv)
          if (g.is_legal(mv, c)) out.push_back(mv);
        return out;
      }, py::arg("color"), "All legal moves for `color`, pass included (last).")
      .def("play", [](Game& g, int color, int move) {
        const Color c = to_color(color);
        check_move(g, move);
        const char* why = g.illegal_reason(move, c);
        if (why) throw py::value_error(std::string("illegal move (") + why + ")");
        g.play(move, c);
      }, py::arg("color"), py::arg("move"), "Plays a move; raises ValueError if it is illegal.")
      .def("undo", &Game::undo, "Takes back the last move; False when there is none.")
      .def("clear", &Game::clear)
      .def("place_setup_stone", [](Game& g, int color, int move) {
        return g.place_setup_stone(move, to_color(color));
      }, py::arg("color"), py::arg("move"), "Handicap/setup stone; False if the point cannot take it.")
      .def("board", &board_array, "The board as a (size, size) uint8 array indexed [y, x].")
      .def("area_score", &Game::area_score, "Tromp-Taylor area: black minus white minus komi.")
      .def("area_owner", [](const Game& g) {
        const int n = g.size();
        py::array_t<int8_t> out({n, n});
        g.area_owner_signed(out.mutable_data());
        return out;
      }, "Tromp-Taylor owner per point as the board stands, (size, size) int8 [y, x]: +1 black, -1 white, 0 neither.")
      .def("ownership", [](const Game& g, int playouts, uint64_t seed) {
        check_playouts(playouts);
        const int n = g.size();
        py::array_t<float> out({n, n});
        float* data = out.mutable_data();
        {
          py::gil_scoped_release release;
          g.ownership(playouts, seed, data);
        }
        return out;
      }, py::arg("playouts") = 400, py::arg("seed") = 0, "Mean final owner per point over light playouts: +1 black, -1 white.")
      .def("dead_stones", [](const Game& g, int playouts, uint64_t seed) {
        check_playouts(playouts);
        const int n = g.size();
        py::array_t<uint8_t> out({n, n});
        uint8_t* data = out.mutable_data();
        {
          py::gil_scoped_release release;
          g.dead_stones(playouts, seed, data);
        }
        return out;
      }, py::arg("playouts") = 400, py::arg("seed") = 0, "1 where a stone is estimated dead.")
      .def("dead_stones_from", [](const Game& g, py::array_t<float, py::array::c_style | py::array::forcecast> own) {
        const int n = g.size();
        if (own.size() != static_cast<py::ssize_t>(n) * n)
          throw std::invalid_argument("ownership must have size*size = " + std::to_string(n * n) + " values");
        const float* data = own.data();
        for (py::ssize_t j = 0; j < own.size(); ++j)
          if (!std::isfinite(data[j])) throw std::invalid_argument("ownership values must be finite");
        py::array_t<uint8_t> out({n, n});
        g.dead_from_ownership(data, out.mutable_data());
        return out;
      }, py::arg("ownership"),
         "1 where a stone is dead by the given ownership ((size, size) or size*size, +1 black, -1 white): "
         "its chain's mean ownership favours the opponent.")
      .def("score_without", [](const Game& g, py::array_t<uint8_t, py::array::c_style | py::array::forcecast> dead) {
        const int n = g.size();
        if (dead.size() != static_cast<py::ssize_t>(n) * n)
          throw std::invalid_argument("dead must have size*size = " + std::to_string(n * n) + " values");
        return g.score_without(dead.data());
      }, py::arg("dead"), "Area score with the `dead` stones removed: black minus white minus komi.")
      .def("final_score", [](const Game& g, int playouts, uint64_t seed) {
        check_playouts(playouts);
        py::gil_scoped_release release;
        return g.final_score(playouts, seed);
      }, py::arg("playouts") = 400, py::arg("seed") = 0,
         "Area score after removing estimated dead stones: black minus white minus komi.")
      .def("random_move", [](const Game& g, int color, uint64_t seed) {
        Rng rng(seed);
        const Color c = to_color(color);
        const int p = random_move(g.board(), c, rng);
        const int mv = g.to_move_index(p);
        return g.is_legal(mv, c) ? mv : g.pass_move();
      }, py::arg("color"), py::arg("seed"),
         "A random legal move that does not fill the mover's own eye (pass when none).")
      .def("copy", [](const Game& g) { return Game(g); })
      .def("__repr__", [](const Game& g) {
        return "<Game size=" + std::to_string(g.size()) + " moves=" + std::to_string(g.moves().size()) + ">";
      });

  py::class_<PlayoutBench>(m, "PlayoutBench")
      .def_readonly("playouts", &PlayoutBench::playouts)
      .def_readonly("moves", &PlayoutBench::moves)
      .def_readonly("seconds", &PlayoutBench::seconds);
  m.def("playout_benchmark", [](int size, int playouts, uint64_t seed, int threads) {
    if (size < kMinSize || size > kMaxSize) throw py::value_error("unacceptable size");
    py::gil_scoped_release release;
    return playout_benchmark(size, playouts, seed, threads);
  }, py::arg("size"), py::arg("playouts"), py::arg("seed") = 1, py::arg("threads") = 1,
     "Light playouts from the empty board, timed in C++.");
}
