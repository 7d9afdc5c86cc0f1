// A tiny fork-join thread pool: the calling thread is worker 0, `threads - 1` helpers wait
// between jobs. Only the Node main thread submits work.
//
// Waiting is spin-then-sleep: a helper spins (`pause`, then `sched_yield`) for up to ~1 ms
// after a job before it sleeps on a condition variable, and the caller spins (likewise) while
// the helpers finish.
// Training steps issue kernels every few microseconds, so the helpers stay hot during a step
// (a futex wake-up costs 20-100 µs, as much as a small GEMM), while an idle process goes
// back to sleep almost at once instead of burning a core the way BLAS thread pools do.
#pragma once
#include <atomic>
#include <cstdlib>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define DST_PAUSE() _mm_pause()
#else
#define DST_PAUSE() std::this_thread::yield()
#endif

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
      stop_.store(true);
      generation_.fetch_add(1);
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    stop_.store(false);
    threads_ = n;
    // Workers start from the current generation: a job submitted before a new thread gets to
    // run is then still seen as new (reading the generation inside the thread would race).
    const uint64_t start = generation_.load();
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, start] { loop(i, start); });
  }

  // Runs fn(worker, nworkers) on every worker (including the caller) and waits.
  void run(const std::function<void(int, int)>& fn) {
    if (threads_ == 1) {
      fn(0, 1);
      return;
    }
    job_ = &fn;
    pending_.store(threads_ - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lk(m_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    fn(0, threads_);
    // spin while the helpers finish (they are running), then sleep if one was descheduled
    const auto t0 = std::chrono::steady_clock::now();
    int it = 0;
    while (pending_.load(std::memory_order_acquire) != 0) {
      if (it < 256) DST_PAUSE();
      else std::this_thread::yield();
      if ((++it & 255) == 0 && std::chrono::steady_clock::now() - t0 > std::chrono::milliseconds(2)) {
        std::unique_lock<std::mutex> lk(m_);
        done_.wait(lk, [this] { return pending_.load(std::memory_order_acquire) == 0; });
        break;
      }
    }
    job_ = nullptr;
  }

 private:
  void loop(int id, uint64_t seen) {
    for (;;) {
      uint64_t g = generation_.load(std::memory_order_acquire);
      if (g == seen) {
        const auto t0 = std::chrono::steady_clock::now();
        int it = 0;
        while ((g = generation_.load(std::memory_order_acquire)) == seen) {
          // pause for the first few microseconds, then yield: on a busy machine the core goes
          // to whoever else is runnable instead of to this spin
          if (it < 256) DST_PAUSE();
          else std::this_thread::yield();
          if ((++it & 63) == 0 && std::chrono::steady_clock::now() - t0 > std::chrono::microseconds(spin_us_)) break;
        }
        if (g == seen) {
          std::unique_lock<std::mutex> lk(m_);
          cv_.wait(lk, [&] { return generation_.load(std::memory_order_acquire) != seen; });
          g = generation_.load(std::memory_order_acquire);
        }
      }
      seen = g;
      if (stop_.load()) return;
      const std::function<void(int, int)>* job = job_;
      if (job) (*job)(id, threads_);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lk(m_);
        done_.notify_one();
      }
    }
  }

  int threads_ = 1;
  int spin_us_ = [] { const char* e = std::getenv("DISTILLERY_SPIN_US"); return e ? std::atoi(e) : 1000; }();
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  const std::function<void(int, int)>* volatile job_ = nullptr;
  std::vector<std::thread> workers_;
  std::mutex m_;
  std::condition_variable cv_, done_;
};

// The engine's one pool (an inline function's static: one instance across the addon's files).
inline Pool& pool() {
  static Pool p;
  return p;
}

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
