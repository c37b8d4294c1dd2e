// A small persistent thread pool: `run(tasks, fn)` calls fn(0..tasks-1), task 0 on the calling thread and the others
// on workers that live for the whole process, so a GEMM call pays a wake-up, not a thread start. One caller at a
// time: while the pool is busy, another thread's run() calls all of its tasks itself.
#pragma once

#include <functional>

namespace icnn {

class ThreadPool {
 public:
  // Threads to compute with: ICNN_THREADS when set to a positive integer, else the CPUs this process may run on.
  static ThreadPool& instance();
  int threads() const { return threads_; }
  void run(int tasks, const std::function<void(int)>& fn);

 private:
  explicit ThreadPool(int threads);
  void workerLoop(int index);
  struct State;
  State* state_;
  int threads_;
};

}  // namespace icnn
