// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_journal.c - `journal`: with --image, the journal of an unmounted
 * image as debugfs's logdump shows it, easier to read: the journal
 * superblock, one row per log block of each transaction (for a logged
 * block, where it goes and what that block is; for a revoke block, each
 * block it revokes; for a commit, its time), whether each checksum is
 * good, what a replay would do with each block, and where and why the
 * scan of the log stopped.  Nothing is written.  On a live mount, the
 * journal as the mount found it and what the mount did with it
 * (GetJournal).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "command.h"
#include "image.h"
#include "output.h"
#include "proto.h"

enum {
	JCOL_SEQ,
	JCOL_LOG,
	JCOL_TYPE,
	JCOL_HOME,
	JCOL_WHAT,
	JCOL_CSUM,
	JCOL_REPLAY,
};

static const struct out_col journal_cols[] = {
	[JCOL_SEQ] = {"SEQ", "the transaction the block belongs to",
		      OUT_C_RIGHT},
	[JCOL_LOG] = {"LOG", "the block's place in the log", OUT_C_RIGHT},
	[JCOL_TYPE] = {"TYPE", "descriptor, data, revoke or commit", 0},
	[JCOL_HOME] = {"HOME",
		       "the filesystem block a data block goes to, or that a "
		       "revoke record covers",
		       OUT_C_RIGHT},
	[JCOL_WHAT] = {"WHAT",
		       "what the home block is, when it can be told; a "
		       "commit's time",
		       OUT_C_WRAP},
	[JCOL_CSUM] = {"CSUM",
		       "the block's checksum: good, bad, unread, or - when "
		       "the journal has none",
		       0},
	[JCOL_REPLAY] = {"REPLAY",
			 "what a replay does with a data block: written, "
			 "revoked, bad-checksum, or no (past the end of the "
			 "log, or the replay fails)",
			 0},
};

/* One row: a log block, or one record of a revoke block. */
struct jrow {
	uint32_t seq;
	uint32_t lblk;
	enum jbd2_note_kind kind;
	bool has_home;
	uint64_t home;
	enum jbd2_csum_state csum;
	bool v1;
	uint32_t tag_flags;
	uint64_t sec;
	uint32_t nsec;
	char what[96];
};

struct jscan {
	struct ictl_image *img;
	struct jrow *rows;
	size_t n;
	size_t cap;
	int err;
};

/* A new row for a block of @note's kind, place, transaction, checksum. */
static struct jrow *jscan_row(struct jscan *s, const struct jbd2_log_note *note)
{
	struct jrow *n;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		n = realloc(s->rows, s->cap * sizeof(*n));
		if (!n) {
			s->err = -ENOMEM;
			return NULL;
		}
		s->rows = n;
	}
	n = &s->rows[s->n++];
	memset(n, 0, sizeof(*n));
	n->seq = note->sequence;
	n->lblk = note->lblk;
	n->kind = note->kind;
	n->csum = note->csum;
	return n;
}

/* The reader's note callback: one row per block (per revoke record). */
static void jscan_note(void *arg, const struct jbd2_log_note *note)
{
	struct jscan *s = arg;
	struct jrow *r;
	uint32_t i;

	if (s->err)
		return;
	if (note->kind == JBD2_NOTE_REVOKE && note->nrecords) {
		for (i = 0; i < note->nrecords; i++) {
			const uint8_t *p =
				note->records + i * note->record_bytes;

			r = jscan_row(s, note);
			if (!r)
				return;
			r->has_home = true;
			r->home = note->record_bytes == 8 ? jbd2_be64(p)
							  : jbd2_be32(p);
			snprintf(r->what, sizeof(r->what), "revoked");
		}
		return;
	}
	r = jscan_row(s, note);
	if (!r)
		return;
	if (note->kind == JBD2_NOTE_COMMIT && note->csum_v1 != JBD2_CSUM_NONE) {
		r->csum = note->csum_v1;
		r->v1 = true;
	}
	r->sec = note->commit_sec;
	r->nsec = note->commit_nsec;
	if (note->kind == JBD2_NOTE_DATA) {
		r->has_home = true;
		r->home = note->home;
		r->tag_flags = note->tag_flags;
		/* Only now is the logged copy at hand. */
		image_block_what(s->img, note->home, note->data, r->what,
				 sizeof(r->what));
	}
}

/* The checksum states by name; NONE has none (the column shows "-"). */
static const char *const csum_names[] = {
	[JBD2_CSUM_GOOD] = "good",
	[JBD2_CSUM_BAD] = "bad",
	[JBD2_CSUM_UNREAD] = "unread",
};

static const char *const kind_names[] = {
	[JBD2_NOTE_DESCRIPTOR] = "descriptor",
	[JBD2_NOTE_DATA] = "data",
	[JBD2_NOTE_REVOKE] = "revoke",
	[JBD2_NOTE_COMMIT] = "commit",
};

/* @names[@i], or @dflt past the end of the name table @names. */
#define JNAME(names, i, dflt) \
	((size_t)(i) < sizeof(names) / sizeof((names)[0]) ? (names)[i] : (dflt))

/* A commit time as RFC 3339 (UTC), or the raw number when it is none. */
static void commit_time(uint64_t sec, uint32_t nsec, char *buf, size_t len)
{
	struct tm tm;
	time_t t = (time_t)sec;

	/* Up to the year 9999; debugfs 1.47 stores 32-bit seconds in the
	 * upper half, for one, which gives no date. */
	if (sec > 253402300799ull || !gmtime_r(&t, &tm)) {
		snprintf(buf, len, "time 0x%" PRIx64, sec);
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, nsec < 1000000000u ? nsec : 0);
}

/* What a replay does with row @r, given the scan's result. */
static const char *replay_word(const struct ictl_image *img,
			       const struct image_journal *ij,
			       const struct jrow *r)
{
	const struct jbd2_log_result *res = &ij->res;
	bool inside = r->seq - res->start_seq < res->transactions;

	if (!inside)
		return "no";
	if (r->kind != JBD2_NOTE_DATA)
		return NULL;
	if (image_journal_revoked(img, r->home, r->seq))
		return "revoked";
	if (r->csum == JBD2_CSUM_BAD || r->csum == JBD2_CSUM_UNREAD)
		return "bad-checksum";
	return "written";
}

static json_t *features_json(const struct jbd2_super *sb)
{
	static const struct {
		uint32_t bit;
		bool compat;
		const char *name;
	} f[] = {
		{JBD2_FEATURE_COMPAT_CHECKSUM, true, "checksum_v1"},
		{JBD2_FEATURE_INCOMPAT_REVOKE, false, "revoke"},
		{JBD2_FEATURE_INCOMPAT_64BIT, false, "64bit"},
		{JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT, false, "async_commit"},
		{JBD2_FEATURE_INCOMPAT_CSUM_V2, false, "checksum_v2"},
		{JBD2_FEATURE_INCOMPAT_CSUM_V3, false, "checksum_v3"},
		{JBD2_FEATURE_INCOMPAT_FAST_COMMIT, false, "fast_commit"},
	};
	uint32_t compat = jbd2_be32(&sb->s_feature_compat);
	uint32_t incompat = jbd2_be32(&sb->s_feature_incompat);
	json_t *a = json_array();
	char hex[32];
	size_t i;

	if (!a || jbd2_be32(&sb->s_header.h_blocktype) != JBD2_SUPERBLOCK_V2)
		return a;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (f[i].compat ? compat & f[i].bit : incompat & f[i].bit)
			json_array_append_new(a, json_string(f[i].name));
		if (f[i].compat)
			compat &= ~f[i].bit;
		else
			incompat &= ~f[i].bit;
	}
	if (incompat) {
		snprintf(hex, sizeof(hex), "incompat:0x%x", incompat);
		json_array_append_new(a, json_string(hex));
	}
	if (compat) {
		snprintf(hex, sizeof(hex), "compat:0x%x", compat);
		json_array_append_new(a, json_string(hex));
	}
	return a;
}

/* The "journal" object: where it is and its superblock. */
static json_t *journal_json(const struct image_journal *ij)
{
	const struct jbd2_super *sb = &ij->sb;
	json_t *o, *s;
	int csum_ok;

	o = json_pack("{s:s, s:b}", "where", ij->where, "needs_recovery",
		      ij->needs_recovery);
	if (!o || !ij->sb_read) {
		if (o && ij->sb_error)
			json_object_set_new(o, "problem", json_string(ij->why));
		return o;
	}
	json_object_set_new(o, "mapping",
			    json_string(ij->backup    ? "superblock backup"
					: ij->extents ? "extents"
						      : "blocks"));
	json_object_set_new(o, "inode_blocks",
			    json_integer((json_int_t)ij->inode_blocks));
	csum_ok = jbd2_has_csum_v2or3(sb)
			  ? jbd2_super_csum(sb) == jbd2_be32(&sb->s_checksum)
			  : -1;
	s = json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:o, s:s?, s:s?, s:i}",
		      "version",
		      jbd2_be32(&sb->s_header.h_blocktype) == JBD2_SUPERBLOCK_V2
			      ? 2
			      : 1,
		      "block_size", (json_int_t)jbd2_be32(&sb->s_blocksize),
		      "blocks", (json_int_t)jbd2_be32(&sb->s_maxlen), "first",
		      (json_int_t)jbd2_be32(&sb->s_first), "sequence",
		      (json_int_t)jbd2_be32(&sb->s_sequence), "start",
		      (json_int_t)jbd2_be32(&sb->s_start), "features",
		      features_json(sb), "checksum_type",
		      jbd2_has_csum_v2or3(sb) ? "crc32c" : NULL, "checksum",
		      csum_ok < 0 ? NULL
		      : csum_ok	  ? "good"
				  : "bad",
		      "errno", (int)(int32_t)jbd2_be32(&sb->s_errno));
	if (s && ij->log_end && ij->log_end < jbd2_be32(&sb->s_maxlen))
		json_object_set_new(
			s, "fast_commit_blocks",
			json_integer((json_int_t)(jbd2_be32(&sb->s_maxlen) -
						  ij->log_end)));
	if (!s || json_object_set_new(o, "superblock", s)) {
		json_decref(o);
		return NULL;
	}
	if (ij->sb_error)
		json_object_set_new(o, "problem", json_string(ij->why));
	return o;
}

/* The "scan" object: what a replay would do, where the log ends. */
static json_t *scan_json(const struct image_journal *ij)
{
	const struct jbd2_log_result *r = &ij->res;

	return json_pack(
		"{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:s, "
		"s:b, s:s?, s:o, s:I}",
		"transactions", (json_int_t)r->transactions, "first_sequence",
		(json_int_t)r->start_seq, "end_sequence",
		(json_int_t)r->end_seq, "next_sequence",
		(json_int_t)r->next_seq, "blocks", (json_int_t)r->replayed,
		"revoked", (json_int_t)r->revoke_hits, "bad_checksums",
		(json_int_t)r->csum_skipped, "stop",
		jbd2_log_stop_name(r->stop), "stop_block",
		(json_int_t)r->stop_block, "why", r->why, "complete",
		!r->error && !r->failed_commit, "error",
		r->error ? strerror(-r->error) : NULL, "failed_commit",
		r->failed_commit ? json_integer(r->failed_seq) : json_null(),
		"fast_commit_records", (json_int_t)r->fc_tags);
}

static int journal_rows(struct ictl *c, struct out_table *t,
			const struct image_journal *ij, const struct jscan *s)
{
	char when[64];
	size_t i;
	int ret = 0;

	for (i = 0; i < s->n && !ret; i++) {
		const struct jrow *r = &s->rows[i];
		const char *cs = JNAME(csum_names, r->csum, NULL), *rp;
		const char *kind = JNAME(kind_names, r->kind, "unknown");

		ret = out_row(t);
		ret = ret ?: out_set_u64(t, JCOL_SEQ, r->seq, false);
		ret = ret ?: out_set_u64(t, JCOL_LOG, r->lblk, false);
		ret = ret ?: out_set_str(t, JCOL_TYPE, kind);
		if (!ret && r->has_home)
			ret = out_set_u64(t, JCOL_HOME, r->home, false);
		else if (!ret)
			ret = out_set_null(t, JCOL_HOME, "-");
		if (!ret && r->kind == JBD2_NOTE_COMMIT) {
			commit_time(r->sec, r->nsec, when, sizeof(when));
			ret = out_set_str(t, JCOL_WHAT, when);
		} else if (!ret) {
			char w[128];

			snprintf(w, sizeof(w), "%s%s", r->what,
				 r->tag_flags & JBD2_FLAG_ESCAPE ? " (escaped)"
								 : "");
			ret = out_set_str(t, JCOL_WHAT, w);
		}
		if (!ret && cs) {
			char v[24];

			snprintf(v, sizeof(v), "%s%s", cs,
				 r->v1 ? " (v1)" : "");
			ret = out_set_str(t, JCOL_CSUM, v);
		} else if (!ret) {
			ret = out_set_null(t, JCOL_CSUM, "-");
		}
		rp = ij->scanned ? replay_word(c->image, ij, r) : NULL;
		if (!ret && rp)
			ret = out_set_str(t, JCOL_REPLAY, rp);
		else if (!ret)
			ret = out_set_null(t, JCOL_REPLAY, "");
	}
	return ret;
}

/*
 * The journal's superblock @jo, its blocks @t and, when the log was scanned,
 * what the scan found (@so, else NULL): for people, or as one document.
 */
static int journal_print(struct ictl *c, struct out_table *t, json_t *jo,
			 json_t *so)
{
	json_t *doc;
	int ret = 0;

	if (c->out_mode == ICTL_OUT_JSON) {
		doc = ictl_doc_new(c->cmd_name);
		if (doc) {
			json_object_set(doc, "journal", jo);
			json_object_set_new(doc, "blocks", out_table_json(t));
			json_object_set(doc, "scan", so ? so : json_null());
		}
		return ictl_doc_print(doc);
	}
	out_print_object(c, jo, 0);
	if (out_table_rows(t)) {
		putchar('\n');
		ret = out_table_print(c, t);
	}
	if (so) {
		printf("\nscan:\n");
		out_print_object(c, so, 1);
	}
	return ret;
}

static int journal_image(struct ictl *c)
{
	struct jscan s = {0};
	struct out_table *t = NULL;
	struct image_journal ij;
	json_t *jo = NULL, *so = NULL;
	int ret;

	ret = client_image(c);
	if (ret)
		return ret;
	s.img = c->image;
	ret = out_table_new(c, "blocks", journal_cols,
			    sizeof(journal_cols) / sizeof(journal_cols[0]), &t);
	if (ret)
		return ret;
	ret = image_journal_scan(c->image, &ij, jscan_note, &s);
	if (!ret)
		ret = s.err;
	if (ret) {
		ret = ictl_errno(c, ICTL_EXIT_FAILED, ret,
				 "cannot read the journal of %s",
				 c->image_path);
		goto out_free;
	}
	if (!ij.has_journal) {
		ret = ictl_fail(c, ICTL_EXIT_FAILED, -ENOENT,
				"%s: no journal to list: %s", c->image_path,
				ij.why);
		goto out_free;
	}
	ret = journal_rows(c, t, &ij, &s);
	jo = journal_json(&ij);
	so = ij.scanned ? scan_json(&ij) : json_null();
	if (!ret && (!jo || !so))
		ret = -ENOMEM;
	if (ret)
		ret = ictl_errno(c, ICTL_EXIT_FAILED, ret, "journal");
	else
		ret = journal_print(c, t, jo, ij.scanned ? so : NULL);
out_free:
	json_decref(jo);
	json_decref(so);
	out_table_free(t);
	free(s.rows);
	return ret;
}

static int journal_live(struct ictl *c)
{
	json_t *st = NULL;
	int ret;

	ret = client_call(c, PROTO_M_GET_JOURNAL, NULL, &st);
	if (ret)
		return ret;
	ret = out_print_member(c, "journal", st);
	if (c->out_mode != ICTL_OUT_JSON &&
	    json_is_false(json_object_get(st, "written")))
		printf("\nThis mount does not write the journal: "
		       "metadata changes are written in place.\n");
	json_decref(st);
	return ret;
}

int cmd_journal(struct ictl *c, const struct cmd_args *a)
{
	(void)a;
	if (c->image_path)
		return journal_image(c);
	return journal_live(c);
}
