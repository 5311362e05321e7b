/*
 * Proof of a liburcu defect (0.13.2 in Debian 12, still so in upstream
 * master 3849619 of 2025): a fork(2) while another thread is inside
 * call_rcu() can leave the child's callback queue broken for good.
 *
 * call_rcu() enqueues on a wait-free queue (wfcqueue) in two steps: it
 * exchanges the queue's tail with its node, then stores the link from the
 * old tail to that node. call_rcu_before_fork() pauses the call_rcu
 * workers and takes call_rcu_mutex, but call_rcu() takes neither, so a
 * thread can be between the two steps when the process forks. In the
 * child, call_rcu_after_fork_child() splices that queue into the new
 * worker's queue; the worker reaches the node whose link is never stored
 * and waits for it for ever (___cds_wfcq_node_sync_next: ten spins, then
 * poll(10 ms), in a loop). Every rcu_barrier() of the child then hangs.
 *
 * Build and run (on a machine with liburcu-dev):
 *   cc -O2 -pthread urcu_fork_call_rcu.c -lurcu-bp -o urcu_fork_call_rcu
 *   ./urcu_fork_call_rcu          # plain: a child that hangs is counted (exit 1)
 *   ./urcu_fork_call_rcu guarded  # call_rcu under a lock the fork takes
 *
 * The window is a few instructions wide: on a 2-vCPU machine 2,000 plain
 * forks did not hit it (2026-12-02). Inside the library's fork suite it was
 * hit (two hung children in about 15 runs under load), with gdb stacks of
 * the worker in ___cds_wfcq_node_sync_next.
 *
 * libpgcache's workaround is the guarded mode (lib/fork.c).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <urcu-bp.h>

/* The guard of lib/fork.c: held around call_rcu() and across the fork. */
static pthread_mutex_t enq_lock = PTHREAD_MUTEX_INITIALIZER;
static int guarded;
static atomic_int stop;
static atomic_long queued; /* bounded, or the queue outgrows memory */

static void cb(struct rcu_head *h)
{
	atomic_fetch_sub(&queued, 1);
	free(h);
}

static void *enqueuer(void *arg)
{
	(void)arg;
	struct timespec pause = {0, 100000};
	while (!atomic_load(&stop)) {
		if (atomic_load(&queued) > 1000000) {
			nanosleep(&pause, NULL);
			continue;
		}
		atomic_fetch_add(&queued, 1);
		struct rcu_head *h = malloc(sizeof(*h));
		if (guarded)
			pthread_mutex_lock(&enq_lock);
		call_rcu(h, cb);
		if (guarded)
			pthread_mutex_unlock(&enq_lock);
	}
	return NULL;
}

/* The same order as lib/fork.c: the guard first, released last. */
static void before(void)
{
	if (guarded)
		pthread_mutex_lock(&enq_lock);
	call_rcu_before_fork();
	urcu_bp_before_fork();
}

static void parent(void)
{
	urcu_bp_after_fork_parent();
	call_rcu_after_fork_parent();
	if (guarded)
		pthread_mutex_unlock(&enq_lock);
}

static void child(void)
{
	urcu_bp_after_fork_child();
	call_rcu_after_fork_child();
	if (guarded)
		pthread_mutex_unlock(&enq_lock);
}

int main(int argc, char **argv)
{
	guarded = argc > 1 && strcmp(argv[1], "guarded") == 0;
	pthread_atfork(before, parent, child);
	pthread_t t[6];
	for (int i = 0; i < 6; i++)
		pthread_create(&t[i], NULL, enqueuer, NULL);
	int forks = 1000, hung = 0;
	for (int i = 0; i < forks; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			rcu_barrier(); /* waits for every queued callback */
			_exit(0);
		}
		int status = 0;
		struct timespec d = {0, 2000000};
		int waited = 0;
		while (waitpid(pid, &status, WNOHANG) == 0) {
			if (++waited > 1000) { /* 2 s */
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				hung++;
				break;
			}
			nanosleep(&d, NULL);
		}
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	printf("%s: %d of %d children hung in rcu_barrier()\n", guarded ? "guarded" : "plain",
	       hung, forks);
	return hung ? 1 : 0;
}
