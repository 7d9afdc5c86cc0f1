// A tiny fork-join thread pool: the calling thread is worker 0, `threads - 1` helpers
// sleep on a condition variable between jobs. Only the Node main thread submits work.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dst {

class Pool {
 public:
  ~Pool() { resize(1); }

  int size() const { return threads_; }

  void resize(int n) {
    if (n < 1) n = 1;
    if (n == threads_) return;
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
      ++generation_;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    stop_ = false;
    threads_ = n;
    // Workers start from the current generation: a job submitted before a new thread gets to
    // run is then still seen as new (reading the generation inside the thread would race).
    const uint64_t start = generation_;
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, start] { loop(i, start); });
  }

  // Runs fn(worker, nworkers) on every worker (including the caller) and waits.
  void run(const std::function<void(int, int)>& fn) {
    if (threads_ == 1) {
      fn(0, 1);
      return;
    }
    {
      std::lock_guard<std::mutex> lk(m_);
      job_ = &fn;
      pending_ = threads_ - 1;
      ++generation_;
    }
    cv_.notify_all();
    fn(0, threads_);
    std::unique_lock<std::mutex> lk(m_);
    done_.wait(lk, [this] { return pending_ == 0; });
    job_ = nullptr;
  }

 private:
  void loop(int id, uint64_t seen) {
    for (;;) {
      const std::function<void(int, int)>* job;
      int n;
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return generation_ != seen; });
        seen = generation_;
        if (stop_) return;
        job = job_;
        n = threads_;
      }
      if (job) (*job)(id, n);
      {
        std::lock_guard<std::mutex> lk(m_);
        if (--pending_ == 0) done_.notify_one();
      }
    }
  }

  int threads_ = 1;
  bool stop_ = false;
  uint64_t generation_ = 0;
  int pending_ = 0;
  const std::function<void(int, int)>* job_ = nullptr;
  std::vector<std::thread> workers_;
  std::mutex m_;
  std::condition_variable cv_, done_;
};

Pool& pool();

// Splits [0, n) into contiguous ranges, one per worker; runs inline when the work is small.
// `cost` is the approximate work per index (in "element operations"), used to decide
// whether waking helpers is worth it.
template <typename F>
inline void parallel_for(int64_t n, double cost, F&& fn) {
  Pool& p = pool();
  const int T = p.size();
  if (T == 1 || n < 2 || double(n) * cost < 60000.0) {
    fn(int64_t(0), n);
    return;
  }
  std::function<void(int, int)> job = [&](int w, int nw) {
    const int64_t chunk = (n + nw - 1) / nw;
    const int64_t b = std::min<int64_t>(n, chunk * w), e = std::min<int64_t>(n, b + chunk);
    if (b < e) fn(b, e);
  };
  p.run(job);
}

}  // namespace dst
