#include "thread_pool.h"

#include <sched.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace icnn {

struct ThreadPool::State {
  std::mutex mutex;
  std::condition_variable wake;
  std::condition_variable done;
  std::atomic<unsigned> generation{0};
  const std::function<void(int)>* job = nullptr;
  int tasks = 0;
  std::atomic<int> remaining{0};
  // Held by the caller of run() for the whole job: callers on other threads (Node worker threads each run GEMMs)
  // then compute their job alone instead of sharing the workers.
  std::mutex busy;
  // Set for good once a caller found the pool busy: several trainings share this process (reproduce --seeds, the
  // rl-sweep pool), they keep the cores busy themselves, and a spinning worker would take a core from one of them.
  std::atomic<bool> shared{false};
};

namespace {

int cpusAvailable() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

int configuredThreads() {
  const char* env = std::getenv("ICNN_THREADS");
  if (env != nullptr && *env != '\0') {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (*end == '\0' && n > 0 && n <= 256) return static_cast<int>(n);
  }
  return cpusAvailable();
}

// How long a worker spins for the next job, and the caller for the workers to finish, before sleeping on a condition
// variable. GEMM calls in a training step come a few tens of microseconds apart, and a condition-variable wake-up is
// slow on a VM whose idle vCPU halts: on the 2-core VM of bench/README.md it cost from tens of microseconds to about a
// millisecond, depending on the host's load. With a 50 µs spin the BibTeX PICNN forward (10 GEMMs) took 13-16 ms in
// the host's slow phases and 8 ms with a 1 ms spin (2026-12-07); OpenBLAS's workers spin about 0.1 s. Spinning costs
// other threads a core only after a burst of calls ends: a worker of a pool that several trainings share spins
// briefly (kSharedSpin), and separate processes that share the cores should each set ICNN_THREADS=1.
constexpr std::chrono::microseconds kSpin{1000};
constexpr std::chrono::microseconds kSharedSpin{50};

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spin until done() or `limit` has passed; returns done().
template <class Done>
bool spinFor(std::chrono::microseconds limit, Done done) {
  const auto until = std::chrono::steady_clock::now() + limit;
  for (;;) {
    for (int i = 0; i < 32; i++) {
      if (done()) return true;
      cpuRelax();
    }
    if (std::chrono::steady_clock::now() >= until) return done();
  }
}

}  // namespace

ThreadPool& ThreadPool::instance() {
  // Never destroyed: the workers are detached and blocked on this state when the process exits.
  static ThreadPool* pool = new ThreadPool(configuredThreads());
  return *pool;
}

ThreadPool::ThreadPool(int threads) : state_(new State), threads_(threads) {
  for (int i = 1; i < threads_; i++) std::thread([this, i] { workerLoop(i); }).detach();
}

void ThreadPool::workerLoop(int index) {
  unsigned seen = 0;
  for (;;) {
    spinFor(state_->shared.load(std::memory_order_relaxed) ? kSharedSpin : kSpin,
            [&] { return state_->generation.load(std::memory_order_acquire) != seen; });
    std::unique_lock<std::mutex> lock(state_->mutex);
    state_->wake.wait(lock, [&] { return state_->generation.load(std::memory_order_relaxed) != seen; });
    seen = state_->generation.load(std::memory_order_relaxed);
    const std::function<void(int)>* job = state_->job;
    const int tasks = state_->tasks;
    lock.unlock();
    if (index < tasks) {
      (*job)(index);
      if (state_->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        lock.lock();  // pairs with the caller's predicate check, so the notification cannot be missed
        state_->done.notify_one();
      }
    }
  }
}

void ThreadPool::run(int tasks, const std::function<void(int)>& fn) {
  if (tasks > threads_) tasks = threads_;
  std::unique_lock<std::mutex> owner(state_->busy, std::try_to_lock);
  if (!owner.owns_lock()) state_->shared.store(true, std::memory_order_relaxed);
  if (tasks <= 1 || !owner.owns_lock()) {
    for (int t = 0; t < tasks; t++) fn(t);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->job = &fn;
    state_->tasks = tasks;
    state_->remaining.store(tasks - 1, std::memory_order_relaxed);
    state_->generation.fetch_add(1, std::memory_order_release);
  }
  state_->wake.notify_all();
  fn(0);
  spinFor(state_->shared.load(std::memory_order_relaxed) ? kSharedSpin : kSpin,
          [&] { return state_->remaining.load(std::memory_order_acquire) == 0; });
  std::unique_lock<std::mutex> lock(state_->mutex);
  state_->done.wait(lock, [&] { return state_->remaining.load(std::memory_order_acquire) == 0; });
}

}  // namespace icnn
