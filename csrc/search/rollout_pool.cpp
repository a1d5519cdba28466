// Rollout pool. Thread-safety: see rollout_pool.h.
#include "search/rollout_pool.h"

#include <algorithm>

namespace tengen {

RolloutPool::RolloutPool(int threads, int board_size) : board_size_(board_size), caller_scratch_(board_size) {
  for (int t = 1; t < threads; ++t) workers_.emplace_back(&RolloutPool::worker_loop, this);
}

RolloutPool::~RolloutPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void RolloutPool::drain(Board& scratch) {
  for (size_t i = next_.fetch_add(1, std::memory_order_relaxed); i < count_;
       i = next_.fetch_add(1, std::memory_order_relaxed))
    (*job_)(i, scratch);
}

void RolloutPool::run(size_t count, const Job& job) {
  if (count == 0) return;
  std::lock_guard<std::mutex> serial(run_mutex_);
  if (workers_.empty() || count == 1) {
    for (size_t i = 0; i < count; ++i) job(i, caller_scratch_);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &job;
    count_ = count;
    next_.store(0, std::memory_order_relaxed);
    busy_ = static_cast<int>(workers_.size());
    ++generation_;
  }
  wake_.notify_all();
  drain(caller_scratch_);
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return busy_ == 0; });
  job_ = nullptr;
}

void RolloutPool::worker_loop() {
  Board scratch(board_size_);
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    drain(scratch);
    std::lock_guard<std::mutex> lock(mutex_);
    if (--busy_ == 0) done_.notify_one();
  }
}

}  // namespace tengen
