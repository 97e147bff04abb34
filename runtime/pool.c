/* The thread pool compiled models run their kernels on (include/tandem/runtime.h).
 *
 * One pool per process, started on the first parallel region and kept until exit:
 * T - 1 worker threads and the caller. A region publishes its task by bumping a
 * generation counter; the threads take the items in runs of a few from a shared
 * counter (so that one slowed down, by a busy core or a longer wait on memory, leaves
 * its work to the others instead of making them wait at the end), and the caller,
 * once the items are gone, waits for the others to finish theirs. Between regions a worker
 * spins on the counter for a while (decode issues a region every few microseconds,
 * and a wake-up through the kernel costs more than that), then sleeps on a condition
 * variable, so that an idle model costs no CPU.
 *
 * Which thread computes an item never changes what it computes (the kernels compute
 * each item on its own), so results do not depend on the number of threads or on
 * who took what. A region started from inside a task, or while another thread
 * runs one, runs on the calling thread alone. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "tandem/runtime.h"

#define MAX_THREADS 256
#define SPIN_NS 200000 /* how long an idle worker spins before it sleeps */

typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t wake;
  int threads;   /* in a region: the threads that get a share (caller included) */
  int started;   /* workers running */
  pthread_t tids[MAX_THREADS];
  uint64_t first_region[MAX_THREADS + 1]; /* the region before a worker's first */
  _Atomic uint64_t region; /* REGION(generation, threads) of the latest region */
  _Atomic int pending;     /* workers yet to finish the current region */
  _Atomic int sleepers;
  _Atomic int busy;    /* a region is running (1) */
  tandem_task_fn fn;
  void *ctx;
  int64_t items;
  int64_t grain;          /* items taken at a time */
  _Atomic int64_t next;   /* the first item not yet taken */
  _Atomic uint64_t regions;
} pool_state;

static pool_state pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};
static _Atomic int requested; /* tandem_set_threads; 0: the default */
static _Thread_local int in_task;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Runs items from the shared counter until none is left. */
static void run_items(void) {
  for (;;) {
    int64_t b = atomic_fetch_add_explicit(&pool.next, pool.grain, memory_order_relaxed);
    if (b >= pool.items) return;
    pool.fn(pool.ctx, b, b + pool.grain < pool.items ? b + pool.grain : pool.items);
  }
}

/* A region's generation and thread count in one word, so that a worker reads the
 * two together: one that is not among a region's threads skips it without reading
 * anything else (the next region may already be filling the task fields in). */
#define REGION(gen, threads) ((gen) << 16 | (uint64_t)(threads))
#define REGION_THREADS(word) ((int)((word) & 0xffff))

static void *worker(void *arg) {
  int t = (int)(intptr_t)arg;
  in_task = 1; /* anything a task starts runs here, on this thread */
  uint64_t seen = pool.first_region[t];
  int spin = 1;
  for (;;) {
    uint64_t r;
    int64_t spin_until = spin ? now_ns() + SPIN_NS : 0;
    for (unsigned i = 1;; i++) {
      r = atomic_load_explicit(&pool.region, memory_order_acquire);
      if (r != seen) break;
      cpu_relax();
      if ((i & 255) == 0 && now_ns() > spin_until) {
        pthread_mutex_lock(&pool.mu);
        atomic_fetch_add(&pool.sleepers, 1);
        while ((r = atomic_load(&pool.region)) == seen) pthread_cond_wait(&pool.wake, &pool.mu);
        atomic_fetch_sub(&pool.sleepers, 1);
        pthread_mutex_unlock(&pool.mu);
        break;
      }
    }
    seen = r;
    spin = t < REGION_THREADS(r); /* one left out sleeps until a region wants it */
    if (!spin) continue;
    run_items();
    atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_release);
  }
  return NULL;
}

/* The cores this process may run on. */
static int default_threads(void) {
  const char *env = getenv("TANDEM_NUM_THREADS");
  if (env && *env) {
    char *end;
    long n = strtol(env, &end, 10);
    if (*end == 0 && n >= 1) return n > MAX_THREADS ? MAX_THREADS : (int)n;
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n >= 1) return n > MAX_THREADS ? MAX_THREADS : n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

int tandem_set_threads(int threads) {
  if (threads < 0) threads = 0;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  atomic_store(&requested, threads);
  return tandem_threads();
}

/* The default, found once (the environment and the affinity are read at the first
 * region, not at every one: a syscall per region would cost decode ~1%). */
static _Atomic int cached_default;

int tandem_threads(void) {
  int n = atomic_load(&requested);
  if (n) return n;
  n = atomic_load_explicit(&cached_default, memory_order_relaxed);
  if (!n) atomic_store_explicit(&cached_default, n = default_threads(), memory_order_relaxed);
  return n;
}

uint64_t tandem_parallel_regions(void) { return atomic_load(&pool.regions); }

/* Starts workers up to threads - 1; returns how many threads a region may use. */
static int ensure_workers(int threads) {
  pthread_mutex_lock(&pool.mu);
  while (pool.started < threads - 1 && pool.started < MAX_THREADS - 1) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1 << 20);
    pool.first_region[pool.started + 1] = atomic_load(&pool.region);
    int ok = pthread_create(&pool.tids[pool.started], &attr, worker, (void *)(intptr_t)(pool.started + 1)) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) break; /* fewer threads, not an error */
    pthread_detach(pool.tids[pool.started]);
    pool.started++;
  }
  int n = pool.started + 1;
  pthread_mutex_unlock(&pool.mu);
  return n < threads ? n : threads;
}

static void wake_sleepers(void) {
  if (atomic_load(&pool.sleepers) > 0) {
    pthread_mutex_lock(&pool.mu);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.mu);
  }
}

void tandem_parallel_for(int64_t items, tandem_task_fn fn, void *ctx) {
  if (items <= 0) return;
  int threads = tandem_threads();
  if (threads > items) threads = (int)items;
  int idle = 0;
  if (threads <= 1 || in_task || !atomic_compare_exchange_strong(&pool.busy, &idle, 1)) {
    fn(ctx, 0, items);
    return;
  }
  threads = ensure_workers(threads);
  if (threads <= 1) {
    atomic_store(&pool.busy, 0);
    fn(ctx, 0, items);
    return;
  }
  pool.fn = fn;
  pool.ctx = ctx;
  pool.items = items;
  pool.threads = threads;
  /* about four runs per thread: few atomic operations, and little left at the end */
  pool.grain = items / (threads * 4) > 1 ? items / (threads * 4) : 1;
  atomic_store_explicit(&pool.next, 0, memory_order_relaxed);
  atomic_store(&pool.pending, threads - 1);
  uint64_t regions = atomic_fetch_add(&pool.regions, 1) + 1;
  /* Sequentially consistent, as the sleepers count read next and the worker's
   * increment-then-check: else a worker could read the old region after this thread
   * read no sleepers (the store still in its store buffer), and sleep through it. */
  atomic_store(&pool.region, REGION(regions, threads));
  wake_sleepers();
  in_task = 1;
  run_items();
  in_task = 0;
  for (unsigned i = 1; atomic_load_explicit(&pool.pending, memory_order_acquire) > 0; i++) {
    cpu_relax();
    if ((i & 4095) == 0) {
      sched_yield();
      wake_sleepers(); /* belt and braces: a worker asleep now has a region to run */
    }
  }
  atomic_store(&pool.busy, 0);
}
