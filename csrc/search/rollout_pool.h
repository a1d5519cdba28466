// RolloutPool: the persistent threads that play one gather's rollouts. Created once per
// BatchedSearch (threads - 1 workers; the calling thread works too), they sleep between
// gathers. With one thread, or one job, run() does the work inline on the calling thread.
//
// Thread-safety: run() may be called from any thread; concurrent calls are served one after
// the other. Jobs of one run() execute concurrently on different threads, each with its own
// scratch Board; a job must touch only its own item.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "go/board.h"

namespace tengen {

class RolloutPool {
 public:
  using Job = std::function<void(size_t item, Board& scratch)>;

  RolloutPool(int threads, int board_size);
  ~RolloutPool();
  RolloutPool(const RolloutPool&) = delete;
  RolloutPool& operator=(const RolloutPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }
  // Calls job(i, scratch) for every i in [0, count); returns when all are done.
  void run(size_t count, const Job& job);

 private:
  void worker_loop();
  void drain(Board& scratch);

  const int board_size_;
  Board caller_scratch_;
  std::mutex run_mutex_;  // one run() at a time
  std::mutex mutex_;      // guards the fields below
  std::condition_variable wake_;
  std::condition_variable done_;
  const Job* job_ = nullptr;
  size_t count_ = 0;
  uint64_t generation_ = 0;
  int busy_ = 0;  // workers still on the current generation
  bool stop_ = false;
  std::atomic<size_t> next_{0};  // next item to hand out
  std::vector<std::thread> workers_;
};

}  // namespace tengen
