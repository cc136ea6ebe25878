/*
 * store.c - hotlined's contract store: one SQLite database.
 *
 * One row per contract (its canonical encoding, the proposal signature,
 * the invitee's answer and the state), indexed by call id and by each
 * party.  The database runs in WAL mode with synchronous=FULL, so a write
 * that returned is on disk: the core answers "ok" only after it, and a
 * contract survives a kill -9 (or a power cut) once acknowledged.  Every
 * statement is prepared once.  A schema_version table holds the version of
 * the layout; a newer one than this code knows is refused.
 *
 * Unix times (u64 in the protocol) are kept as SQLite integers through a
 * two's-complement cast; the core refuses windows beyond a year ahead, so
 * stored values stay far below 2^63 and compare correctly in SQL.
 */
#include <string.h>

#include <sqlite3.h>

#include "server_internal.h"

#define SCHEMA_VERSION 1

static const char schema_sql[] =
	"CREATE TABLE schema_version(version INTEGER NOT NULL);"
	"CREATE TABLE contracts("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" call_id BLOB NOT NULL UNIQUE CHECK(length(call_id) = 16),"
	" proposer BLOB NOT NULL CHECK(length(proposer) = 32),"
	" invitee BLOB NOT NULL CHECK(length(invitee) = 32),"
	" not_before INTEGER NOT NULL,"
	" not_after INTEGER NOT NULL,"
	" state INTEGER NOT NULL CHECK(state BETWEEN 1 AND 3),"
	" contract BLOB NOT NULL,"
	" proposal BLOB NOT NULL CHECK(length(proposal) = 64),"
	" answer BLOB CHECK(answer IS NULL OR length(answer) = 64),"
	" stored_at INTEGER NOT NULL,"
	" answered_at INTEGER);"
	"CREATE INDEX contracts_proposer ON contracts(proposer, seq);"
	"CREATE INDEX contracts_invitee ON contracts(invitee, seq);"
	"INSERT INTO schema_version(version) VALUES (1);";

enum {
	ST_GET,
	ST_INSERT,
	ST_ANSWER,
	ST_LIST,
	ST_COUNT,
	ST_N,
};

static const char *const stmt_sql[ST_N] = {
	[ST_GET] = "SELECT seq, call_id, proposer, invitee, not_before,"
		   " not_after, state, contract, proposal, answer"
		   " FROM contracts WHERE call_id = ?1",
	[ST_INSERT] = "INSERT INTO contracts(call_id, proposer, invitee,"
		      " not_before, not_after, state, contract, proposal,"
		      " stored_at) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7, ?8)",
	[ST_ANSWER] = "UPDATE contracts SET state = ?2, answer = ?3,"
		      " answered_at = ?4 WHERE call_id = ?1 AND state = 1",
	[ST_LIST] = "SELECT seq, call_id, proposer, invitee, not_before,"
		    " not_after, state, contract, proposal, answer"
		    " FROM contracts WHERE seq > ?2 AND"
		    " (proposer = ?1 OR invitee = ?1) ORDER BY seq LIMIT ?3",
	[ST_COUNT] = "SELECT count(*) FROM contracts"
		     " WHERE proposer = ?1 AND not_after >= ?2",
};

struct sqlite_store {
	struct hl_srv_store st;
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_N];
};

static int fail(struct sqlite_store *s, const char *what)
{
	hl_log(HL_LOG_ERROR, "store: %s: %s", what, sqlite3_errmsg(s->db));
	return HL_EIO;
}

/* Copy a blob column of exactly len bytes (else the row is damaged). */
static bool col_blob(sqlite3_stmt *st, int col, uint8_t *out, size_t len)
{
	const void *p = sqlite3_column_blob(st, col);

	if (!p || (size_t)sqlite3_column_bytes(st, col) != len)
		return false;
	memcpy(out, p, len);
	return true;
}

/* Read the current row of a GET/LIST statement into c. */
static int read_row(sqlite3_stmt *st, struct hl_srv_contract *c)
{
	int state = sqlite3_column_int(st, 6);
	int n = sqlite3_column_bytes(st, 7);

	c->seq = sqlite3_column_int64(st, 0);
	c->not_before = (uint64_t)sqlite3_column_int64(st, 4);
	c->not_after = (uint64_t)sqlite3_column_int64(st, 5);
	if (state < HL_CONTRACT_PROPOSED || state > HL_CONTRACT_DECLINED ||
	    n <= 0 || (size_t)n > sizeof(c->enc) ||
	    !col_blob(st, 1, c->call_id, HL_CALL_ID_LEN) ||
	    !col_blob(st, 2, c->proposer, HL_ID_PK_LEN) ||
	    !col_blob(st, 3, c->invitee, HL_ID_PK_LEN) ||
	    !col_blob(st, 7, c->enc, (size_t)n) ||
	    !col_blob(st, 8, c->proposal, HL_ID_SIG_LEN))
		return HL_EIO;
	c->enc_len = (size_t)n;
	c->state = (enum hl_contract_state)state;
	memset(c->answer, 0, sizeof(c->answer));
	if (state != HL_CONTRACT_PROPOSED &&
	    !col_blob(st, 9, c->answer, HL_ID_SIG_LEN))
		return HL_EIO;
	return 0;
}

static int st_get(void *ctx, const uint8_t call_id[HL_CALL_ID_LEN],
		  struct hl_srv_contract *out)
{
	struct sqlite_store *s = ctx;
	sqlite3_stmt *st = s->stmt[ST_GET];
	int rc, err;

	sqlite3_bind_blob(st, 1, call_id, HL_CALL_ID_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		err = HL_ENOTFOUND;
	else if (rc != SQLITE_ROW)
		err = fail(s, "get");
	else if ((err = read_row(st, out)) != 0)
		hl_log(HL_LOG_ERROR, "store: a damaged row");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return err;
}

static int st_insert(void *ctx, const struct hl_srv_contract *c, uint64_t now_s)
{
	struct sqlite_store *s = ctx;
	sqlite3_stmt *st = s->stmt[ST_INSERT];
	int rc, err = 0;

	sqlite3_bind_blob(st, 1, c->call_id, HL_CALL_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, c->proposer, HL_ID_PK_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, c->invitee, HL_ID_PK_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)c->not_before);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)c->not_after);
	sqlite3_bind_blob(st, 6, c->enc, (int)c->enc_len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 7, c->proposal, HL_ID_SIG_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)now_s);
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT)
		err = HL_ECONFLICT;
	else if (rc == SQLITE_NOMEM)
		err = HL_ENOMEM;
	else if (rc != SQLITE_DONE)
		err = fail(s, "insert");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return err;
}

static int st_answer(void *ctx, const uint8_t call_id[HL_CALL_ID_LEN],
		     enum hl_contract_state state,
		     const uint8_t sig[HL_ID_SIG_LEN], uint64_t now_s)
{
	struct sqlite_store *s = ctx;
	sqlite3_stmt *st = s->stmt[ST_ANSWER];
	int rc, err = 0;

	if (state != HL_CONTRACT_CONFIRMED && state != HL_CONTRACT_DECLINED)
		return HL_EINVAL;
	sqlite3_bind_blob(st, 1, call_id, HL_CALL_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)state);
	sqlite3_bind_blob(st, 3, sig, HL_ID_SIG_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)now_s);
	rc = sqlite3_step(st);
	if (rc == SQLITE_NOMEM)
		err = HL_ENOMEM;
	else if (rc != SQLITE_DONE)
		err = fail(s, "answer");
	else if (sqlite3_changes(s->db) != 1)
		err = HL_ECONFLICT;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return err;
}

static int st_list(void *ctx, const uint8_t pk[HL_ID_PK_LEN], int64_t after,
		   unsigned max, hl_srv_each_fn *each, void *arg)
{
	struct sqlite_store *s = ctx;
	sqlite3_stmt *st = s->stmt[ST_LIST];
	struct hl_srv_contract *c = hl_malloc(sizeof(*c));
	int rc, err = 0;

	if (!c)
		return HL_ENOMEM;
	sqlite3_bind_blob(st, 1, pk, HL_ID_PK_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int64(st, 3, max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((err = read_row(st, c)) != 0) {
			hl_log(HL_LOG_ERROR, "store: a damaged row");
			break;
		}
		if ((err = each(arg, c)) != 0)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = rc == SQLITE_NOMEM ? HL_ENOMEM : fail(s, "list");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	hl_free(c);
	return err;
}

static int st_count(void *ctx, const uint8_t pk[HL_ID_PK_LEN], uint64_t now_s,
		    uint64_t *n)
{
	struct sqlite_store *s = ctx;
	sqlite3_stmt *st = s->stmt[ST_COUNT];
	int err = 0;

	sqlite3_bind_blob(st, 1, pk, HL_ID_PK_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now_s);
	if (sqlite3_step(st) == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(st, 0);
	else
		err = fail(s, "count");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return err;
}

static void st_close(void *ctx)
{
	struct sqlite_store *s = ctx;

	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	hl_free(s);
}

static const struct hl_srv_store_ops sqlite_ops = {
	.get = st_get,
	.insert = st_insert,
	.answer = st_answer,
	.list = st_list,
	.count_open = st_count,
	.close = st_close,
};

/* The layout's version: 0 for an empty database. */
static int schema_version(sqlite3 *db, int *version)
{
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	rc = sqlite3_prepare_v2(db,
				"SELECT count(*) FROM sqlite_master WHERE"
				" type = 'table' AND name = 'schema_version'",
				-1, &st, NULL);
	if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		err = HL_EIO;
		goto out;
	}
	*version = 0;
	if (sqlite3_column_int(st, 0) == 0)
		goto out;
	sqlite3_finalize(st);
	rc = sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version",
				-1, &st, NULL);
	if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		err = HL_EIO;
		goto out;
	}
	*version = sqlite3_column_int(st, 0);
out:
	sqlite3_finalize(st);
	return err;
}

int hl_srv_store_open(struct hl_srv_store **out, const char *path,
		      const char **why)
{
	struct sqlite_store *s = hl_calloc(1, sizeof(*s));
	const char *w = "cannot open the database";
	char *msg = NULL;
	int version = 0, err = HL_EIO;

	if (!s)
		return HL_ENOMEM;
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK)
		goto out;
	sqlite3_extended_result_codes(s->db, 0);
	sqlite3_busy_timeout(s->db, 5000);
	w = "cannot set WAL mode and synchronous=FULL";
	if (sqlite3_exec(s->db,
			 "PRAGMA journal_mode = WAL;"
			 "PRAGMA synchronous = FULL;",
			 NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	w = "cannot read the schema version";
	if (schema_version(s->db, &version) != 0)
		goto out;
	if (version > SCHEMA_VERSION) {
		w = "the database was made by a newer hotlined";
		err = HL_EUNSUPPORTED;
		goto out;
	}
	if (version == 0) {
		w = "cannot create the tables";
		if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
			    SQLITE_OK ||
		    sqlite3_exec(s->db, schema_sql, NULL, NULL, &msg) !=
			    SQLITE_OK ||
		    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) !=
			    SQLITE_OK) {
			if (msg)
				hl_log(HL_LOG_ERROR, "store: %s", msg);
			sqlite3_free(msg);
			goto out;
		}
	}
	w = "cannot prepare the statements";
	for (int i = 0; i < ST_N; i++)
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
				       NULL) != SQLITE_OK)
			goto out;
	s->st.ops = &sqlite_ops;
	s->st.ctx = s;
	*out = &s->st;
	s = NULL;
	err = 0;
out:
	if (s) {
		if (s->db && err == HL_EIO)
			hl_log(HL_LOG_ERROR, "store: %s: %s", w,
			       sqlite3_errmsg(s->db));
		if (why)
			*why = w;
		st_close(s);
	}
	return err;
}

void hl_srv_store_close(struct hl_srv_store *st)
{
	if (st)
		st->ops->close(st->ctx);
}
