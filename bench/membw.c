/* membw: the machine's memory read bandwidth, as a memory-bound decode sees it.
 *
 *   cc -O2 -pthread bench/membw.c -o membw && ./membw [THREADS [MIB [PASSES]]]
 *
 * Allocates MIB MiB (default 1024: far beyond any cache), writes every page so that it
 * is backed by memory, then PASSES times (default 10) reads the whole buffer with
 * THREADS threads (default 1), each summing its own contiguous slice with 32-byte vector
 * loads and four independent accumulators (so that the loads, not the adds, limit it).
 * Between passes the threads meet at a barrier; a pass is timed from the barrier that
 * starts it to the one that ends it, so it lasts as long as its slowest thread.
 * Prints one line: "membw: threads T, MiB M, passes P, best B GB/s, median D GB/s"
 * (GB = 1e9 bytes). The best pass is the bandwidth (as STREAM reports it): slower passes
 * are other processes' interference, not the memory's limit. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef uint64_t v4u64 __attribute__((vector_size(32)));

static volatile uint64_t membw_sink; /* the sums land here, so the reads stay */

typedef struct {
  const v4u64 *base; /* this thread's slice */
  size_t count;      /* vectors in it (a multiple of 4) */
  int passes;
  pthread_barrier_t *barrier;
  double *pass_seconds; /* thread 0 writes each pass's duration */
  uint64_t sink;        /* keeps the sums alive */
} membw_job;

static double membw_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t membw_read(const v4u64 *p, size_t count) {
  v4u64 a = {0}, b = {0}, c = {0}, d = {0};
  for (size_t i = 0; i < count; i += 4) {
    a += p[i];
    b += p[i + 1];
    c += p[i + 2];
    d += p[i + 3];
  }
  v4u64 s = a + b + c + d;
  return s[0] + s[1] + s[2] + s[3];
}

static void *membw_thread(void *arg) {
  membw_job *job = arg;
  for (int pass = 0; pass < job->passes; pass++) {
    pthread_barrier_wait(job->barrier);
    double start = membw_now();
    job->sink += membw_read(job->base, job->count);
    pthread_barrier_wait(job->barrier);
    if (job->pass_seconds) job->pass_seconds[pass] = membw_now() - start;
  }
  return NULL;
}

static int membw_compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static long membw_arg(int argc, char **argv, int i, long def) {
  if (argc <= i) return def;
  char *end;
  long v = strtol(argv[i], &end, 10);
  if (*end || v < 1) {
    fprintf(stderr, "membw: %s: expected a positive integer\n", argv[i]);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  int threads = (int)membw_arg(argc, argv, 1, 1), passes = (int)membw_arg(argc, argv, 3, 10);
  size_t mib = (size_t)membw_arg(argc, argv, 2, 1024);
  size_t bytes = mib << 20, per_thread = bytes / sizeof(v4u64) / (size_t)threads / 4 * 4;
  v4u64 *buf = NULL;
  if (posix_memalign((void **)&buf, 4096, bytes)) {
    fprintf(stderr, "membw: cannot allocate %zu MiB\n", mib);
    return 1;
  }
  memset(buf, 1, bytes);
  pthread_barrier_t barrier;
  pthread_barrier_init(&barrier, NULL, (unsigned)threads);
  double *seconds = calloc((size_t)passes, sizeof *seconds);
  membw_job *jobs = calloc((size_t)threads, sizeof *jobs);
  pthread_t *tids = calloc((size_t)threads, sizeof *tids);
  if (!seconds || !jobs || !tids) return 1;
  for (int t = 0; t < threads; t++) {
    jobs[t] = (membw_job){buf + (size_t)t * per_thread, per_thread, passes, &barrier,
                          t == 0 ? seconds : NULL, 0};
    if (t > 0 && pthread_create(&tids[t], NULL, membw_thread, &jobs[t])) {
      fprintf(stderr, "membw: cannot start thread %d\n", t);
      return 1;
    }
  }
  membw_thread(&jobs[0]);
  uint64_t sink = jobs[0].sink;
  for (int t = 1; t < threads; t++) {
    pthread_join(tids[t], NULL);
    sink += jobs[t].sink;
  }
  double read = (double)(per_thread * (size_t)threads * sizeof(v4u64));
  qsort(seconds, (size_t)passes, sizeof *seconds, membw_compare);
  membw_sink = sink;
  printf("membw: threads %d, MiB %zu, passes %d, best %.2f GB/s, median %.2f GB/s\n", threads, mib,
         passes, read / seconds[0] / 1e9, read / seconds[passes / 2] / 1e9);
  return 0;
}
