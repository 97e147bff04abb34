/* The thread pool (runtime/pool.c): every item runs exactly once; one thread runs a
 * region in one call; a thread held up leaves the items it has not taken to the
 * others; nested regions run on the calling thread; the pool survives many small
 * regions, a change of thread count, and idle sleeps. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "test_util.h"

#define ITEMS 1000

typedef struct {
  _Atomic int hits[ITEMS];
  _Atomic int calls;
  _Atomic int nested_ok;
} counts;

static void count_items(void *ctx, int64_t begin, int64_t end) {
  counts *c = ctx;
  atomic_fetch_add(&c->calls, 1);
  for (int64_t i = begin; i < end; i++) atomic_fetch_add(&c->hits[i], 1);
}

static void nested(void *ctx, int64_t begin, int64_t end) {
  counts *c = ctx;
  for (int64_t i = begin; i < end; i++) {
    counts inner;
    memset(&inner, 0, sizeof inner);
    tandem_parallel_for(10, count_items, &inner);
    /* one call on this thread: a region inside a task is not split */
    if (atomic_load(&inner.calls) == 1 && atomic_load(&inner.hits[9]) == 1) atomic_fetch_add(&c->nested_ok, 1);
  }
}

static int each_once(counts *c, int64_t items) {
  for (int64_t i = 0; i < items; i++)
    if (atomic_load(&c->hits[i]) != 1) return 0;
  for (int64_t i = items; i < ITEMS; i++)
    if (atomic_load(&c->hits[i]) != 0) return 0;
  return 1;
}

/* expect_calls: exactly (>= 0), or at most -expect_calls. */
static void run_counts(int64_t items, int expect_calls) {
  counts c;
  memset(&c, 0, sizeof c);
  tandem_parallel_for(items, count_items, &c);
  CHECK(each_once(&c, items));
  int calls = atomic_load(&c.calls);
  if (expect_calls >= 0 ? calls != expect_calls : calls < 1 || calls > -expect_calls) {
    char what[96];
    snprintf(what, sizeof what, "%lld items: %d calls, expected %s%d", (long long)items, calls,
             expect_calls >= 0 ? "" : "at most ", expect_calls >= 0 ? expect_calls : -expect_calls);
    t_fail(__FILE__, __LINE__, what, NULL);
  }
}

/* Item 0 sleeps; the thread of each item is recorded. */
typedef struct {
  pthread_t who[16];
} owners;

static void slow_first(void *ctx, int64_t begin, int64_t end) {
  owners *o = ctx;
  for (int64_t i = begin; i < end; i++) {
    o->who[i] = pthread_self();
    if (i == 0) {
      struct timespec t = {0, 50000000}; /* 50 ms */
      nanosleep(&t, NULL);
    }
  }
}

void test_pool(void) {
  CHECK(tandem_set_threads(0) >= 1);
  CHECK(tandem_set_threads(1) == 1);
  uint64_t r0 = tandem_parallel_regions();
  run_counts(ITEMS, 1); /* one thread: one call */
  CHECK(tandem_parallel_regions() == r0);
  tandem_parallel_for(0, count_items, NULL); /* nothing to do: fn is not called */

  for (int threads = 2; threads <= 8; threads *= 2) {
    CHECK(tandem_set_threads(threads) == threads);
    CHECK(tandem_threads() == threads);
    r0 = tandem_parallel_regions();
    run_counts(ITEMS, -ITEMS);
    run_counts(3, -3); /* fewer items than threads */
    run_counts(1, 1);
    CHECK(tandem_parallel_regions() == r0 + 2);
    counts c;
    memset(&c, 0, sizeof c);
    tandem_parallel_for(4, nested, &c);
    CHECK(atomic_load(&c.nested_ok) == 4);
  }

  /* A thread held up (item 0 sleeps 50 ms) does not keep the items it has not
   * taken: on two threads, the other runs most of the rest (a fixed split would
   * leave items 1..7 to the sleeper). */
  tandem_set_threads(2);
  owners o;
  memset(&o, 0, sizeof o);
  tandem_parallel_for(16, slow_first, &o);
  int elsewhere = 0;
  for (int i = 1; i < 16; i++) elsewhere += !pthread_equal(o.who[i], o.who[0]);
  CHECK(elsewhere >= 12);

  /* Many small regions, as decode issues them. */
  int bad = 0;
  for (int i = 0; i < 20000 && !bad; i++) {
    counts c;
    memset(&c, 0, sizeof c);
    tandem_parallel_for(1 + i % 64, count_items, &c);
    bad = !each_once(&c, 1 + i % 64);
  }
  CHECK(!bad);

  /* After the workers have gone to sleep, a region wakes them. */
  struct timespec pause = {0, 5000000}; /* 5 ms, past the spin */
  nanosleep(&pause, NULL);
  run_counts(ITEMS, -ITEMS);
  /* Regions that start just as workers give up spinning and go to sleep (a wake-up
   * lost there hangs the caller: this test then times out). */
  for (int i = 0; i < 3000; i++) {
    struct timespec gap = {0, 170000 + (i * 7919) % 60000}; /* around the 200 us spin */
    nanosleep(&gap, NULL);
    counts c;
    memset(&c, 0, sizeof c);
    tandem_parallel_for(2, count_items, &c);
    if (!each_once(&c, 2)) {
      CHECK(!"a region after a sleep ran an item twice or not at all");
      break;
    }
  }
  /* Fewer threads than workers started: the rest only check in. */
  tandem_set_threads(8);
  run_counts(ITEMS, -ITEMS);
  tandem_set_threads(3);
  run_counts(ITEMS, -ITEMS);
  tandem_set_threads(0);
}
