// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * journal_obs.c - what the journal writer shows of itself (journal.c has
 * the design): a bounded ring of the recent transactions (journal_history=
 * of them; journal_get_history()), the checkpoint lag, and the commit and
 * checkpoint events handed to the daemon for its watchers.  The writer
 * calls in here once per commit and once per checkpoint, after the fact:
 * nothing here writes to the disk or changes what the rules R1-R5 order.
 * Everything here runs with fs_lock held, the lock of the whole journal.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal_int.h"

static const char *const jnl_cp_cause_names[JOURNAL_CP_COUNT] = {
	[JOURNAL_CP_LOG_FULL] = "log-full", [JOURNAL_CP_BOUND] = "bound",
	[JOURNAL_CP_UNMOUNT] = "unmount",   [JOURNAL_CP_REMOUNT] = "remount",
	[JOURNAL_CP_ERROR] = "abort",	    [JOURNAL_CP_REQUEST] = "request",
};

static const char *const jnl_state_names[JOURNAL_TXN_STATE_COUNT] = {
	[JOURNAL_TXN_RUNNING] = "running",
	[JOURNAL_TXN_COMMITTING] = "committing",
	[JOURNAL_TXN_COMMITTED] = "committed",
	[JOURNAL_TXN_CHECKPOINTED] = "checkpointed",
};

const char *journal_cp_cause_name(enum journal_cp_cause cause)
{
	return (unsigned int)cause < JOURNAL_CP_COUNT
		       ? jnl_cp_cause_names[cause]
		       : "unknown";
}

const char *journal_txn_state_name(enum journal_txn_state state)
{
	return (unsigned int)state < JOURNAL_TXN_STATE_COUNT
		       ? jnl_state_names[state]
		       : "unknown";
}

static uint64_t jnl_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CLOCK_REALTIME of the CLOCK_MONOTONIC time @mono (0: none). */
static uint64_t jnl_mono_to_real(int64_t mono)
{
	int64_t age;
	uint64_t now;

	if (!mono)
		return 0;
	now = jnl_real_ns();
	age = jnl_now_ns() - mono;
	return age > 0 && (uint64_t)age < now ? now - (uint64_t)age : now;
}

/* The ring, after journal_open() copied the options.  0 or -ENOMEM. */
int jnl_hist_init(struct journal *j)
{
	if (pthread_mutex_init(&j->obs_lock, NULL))
		return -ENOMEM;
	if (!j->opts.history)
		j->opts.history = JOURNAL_DEFAULT_HISTORY;
	if (j->opts.history > JOURNAL_MAX_HISTORY)
		j->opts.history = JOURNAL_MAX_HISTORY;
	j->hist = calloc(j->opts.history, sizeof(*j->hist));
	return j->hist ? 0 : -ENOMEM;
}

/* Refresh the copy journal_get_published() reads.  fs_lock held. */
void jnl_publish(struct journal *j)
{
	pthread_mutex_lock(&j->obs_lock);
	journal_get_stats(j, &j->pub);
	j->pub_cp_oldest_ns = j->cp_oldest_ns;
	pthread_mutex_unlock(&j->obs_lock);
}

void journal_get_published(struct journal *j, struct journal_stats *st)
{
	pthread_mutex_lock(&j->obs_lock);
	*st = j->pub;
	st->oldest_uncheckpointed_ns =
		j->pub_cp_oldest_ns ? jnl_now_ns() - j->pub_cp_oldest_ns : 0;
	pthread_mutex_unlock(&j->obs_lock);
}

static void jnl_emit(struct journal *j, const struct journal_event *ev)
{
	if (j->ops.event)
		j->ops.event(j->ops.arg, ev);
}

/*
 * Transaction @tid is durable (jnl_do_commit(), after
 * jnl_finish_commit()): @blocks metadata blocks and @revokes revoke
 * records in @written log blocks, its first change at @start_ns
 * (monotonic, 0: unknown), the commit took @dt ns.
 */
void jnl_hist_commit(struct journal *j, enum journal_cause cause, uint32_t tid,
		     uint32_t blocks, uint32_t revokes, uint32_t written,
		     int64_t start_ns, int64_t dt)
{
	struct journal_txn *t = &j->hist[j->hist_next];
	struct journal_event ev = {
		.tid = tid,
		.blocks = blocks,
		.revokes = revokes,
		.latency_ns = dt > 0 ? (uint64_t)dt : 0,
		.cause = journal_cause_name(cause),
	};

	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->state = JOURNAL_TXN_COMMITTED;
	t->cause = cause;
	t->blocks = blocks;
	t->revokes = revokes;
	t->log_blocks = written;
	t->start_ns = jnl_mono_to_real(start_ns);
	t->commit_ns = jnl_real_ns();
	t->latency_ns = ev.latency_ns;
	j->hist_next = (j->hist_next + 1) % j->opts.history;
	if (j->hist_count < j->opts.history)
		j->hist_count++;
	if (!j->cp_txns)
		j->cp_first_tid = tid;
	j->cp_txns++;
	jnl_publish(j);
	jnl_emit(j, &ev);
}

/*
 * jnl_checkpoint() wrote @blocks committed blocks home, durable, and moved
 * the tail (@why; it took @dt ns): every committed transaction is home.
 */
void jnl_hist_checkpoint(struct journal *j, enum journal_cp_cause why,
			 uint64_t blocks, int64_t dt)
{
	uint64_t now = jnl_real_ns();
	struct journal_event ev = {
		.checkpoint = true,
		.tid = j->tid - 1,
		.first_tid = j->cp_first_tid,
		.blocks = blocks,
		.latency_ns = dt > 0 ? (uint64_t)dt : 0,
		.cause = journal_cp_cause_name(why),
	};
	uint32_t i, at;

	j->st.checkpoints_by_cause[why]++;
	/* Newest first: the ones committed since the last checkpoint. */
	for (i = 0; i < j->hist_count; i++) {
		at = (j->hist_next + j->opts.history - 1 - i) % j->opts.history;
		if (j->hist[at].state != JOURNAL_TXN_COMMITTED)
			break;
		j->hist[at].state = JOURNAL_TXN_CHECKPOINTED;
		j->hist[at].checkpoint_ns = now;
	}
	if (!j->cp_txns) {
		jnl_publish(j);
		return; /* nothing was committed since: no event */
	}
	j->cp_txns = 0;
	jnl_publish(j);
	jnl_emit(j, &ev);
}

size_t journal_get_history(const struct journal *j, struct journal_txn *out,
			   size_t max)
{
	size_t n = 0;
	uint32_t i;

	if (max > j->opts.history)
		max = j->opts.history;
	if (max &&
	    (j->committing || j->run_count || j->nrevokes || j->run_start_ns)) {
		memset(out, 0, sizeof(*out));
		out->tid = j->tid;
		out->state = j->committing ? JOURNAL_TXN_COMMITTING
					   : JOURNAL_TXN_RUNNING;
		out->blocks = j->run_count;
		out->revokes = (uint32_t)j->nrevokes;
		out->start_ns = jnl_mono_to_real(j->run_start_ns);
		n++;
	}
	for (i = 0; i < j->hist_count && n < max; i++)
		out[n++] = j->hist[(j->hist_next + j->opts.history - 1 - i) %
				   j->opts.history];
	return n;
}
