/*
 * cmd_call.c - calls: `hotline schedule`, `invites`, `confirm`, `decline`,
 * `calls` and `verify`.
 *
 * Every contract that comes from the server is verified (encoding, every
 * signature, the parties) before it is shown or used; one whose other
 * party is not a pinned contact is refused until the user pins the key.
 * Local copies go to HOME/contracts/CALLID.json.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "callsetup.h"
#include "commands.h"
#include "hotline/ake.h"
#include "hotline/contract.h"
#include "hotline/net.h"

#define VERIFY_TIMEOUT_S 60

/*
 * "now" or ISO 8601: YYYY-MM-DD[T| ]HH:MM[:SS][Z|+HH:MM|-HH:MM]; without
 * a zone the time is local.  Returns false if it is not one of these.
 */
static bool parse_time(const char *s, uint64_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec = 0, n = 0, zh = 0, zm = 0;
	char sep;
	const char *z;
	time_t t;
	bool utc = false;

	if (strcmp(s, "now") == 0) {
		*out = now_unix();
		return true;
	}
	if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi,
		   &n) != 6 ||
	    (sep != 'T' && sep != ' '))
		return false;
	z = s + n;
	if (*z == ':') {
		int m2 = 0;

		if (sscanf(z, ":%2d%n", &sec, &m2) != 1)
			return false;
		z += m2;
	}
	if (*z == 'Z' && z[1] == 0) {
		utc = true;
	} else if ((*z == '+' || *z == '-') &&
		   sscanf(z + 1, "%2d:%2d", &zh, &zm) == 2 && strlen(z) == 6) {
		utc = true;
		if (*z == '-') {
			zh = -zh;
			zm = -zm;
		}
	} else if (*z) {
		return false;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || y < 1970 || zh > 14 || zh < -14)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	t = utc ? timegm(&tm) : mktime(&tm);
	if (t == (time_t)-1)
		return false;
	if (utc)
		t -= (time_t)zh * 3600 + (time_t)zm * 60;
	*out = (uint64_t)t;
	return true;
}

static void iso_utc(uint64_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm))
		strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		snprintf(out, cap, "%llu", (unsigned long long)t);
}

/* ---- contracts at home and on the server ------------------------------ */

/* ---- schedule --------------------------------------------------------- */

static void schedule_usage(FILE *f)
{
	fprintf(f,
		"usage: hotline schedule CONTACT --at TIME [--duration MIN] "
		"[--topic TEXT]...\n"
		"                        [--relay-only] [--no-recording] "
		"[--pq-required]\n"
		"                        [--server URL] [--home DIR] "
		"[--passphrase-file F]\n"
		"\n"
		"Propose a call to a pinned contact: a contract with the time "
		"window, the\nagenda and the policy, signed with your "
		"identity and sent through the\nserver.  Prints the call id "
		"alone.  TIME is 'now' or ISO 8601\n(2026-12-03T15:00Z, "
		"2026-12-03 15:00+01:00, 2026-12-03T15:00 for local "
		"time).\nDuration defaults to 60 minutes (at most 7 days).\n");
}

int cmd_schedule(int argc, char **argv)
{
	struct common c = {0};
	const char *at = NULL, *pos[1];
	unsigned duration = 60;
	bool relay_only = false, no_rec = false, pq = false;
	struct opt_list topics = {0};
	struct opt t[] = {
		COMMON_OPTS(&c),
		OPT("--at", OPT_PATH, 0, 0, "'now' or an ISO 8601 time", &at),
		OPT("--duration", OPT_U32, 1, 10080,
		    "a number of minutes from 1 to 10080", &duration),
		OPT("--topic", OPT_LIST, 0, 0, "a text", &topics),
		OPT("--relay-only", OPT_FLAG, 0, 0, "", &relay_only),
		OPT("--no-recording", OPT_FLAG, 0, 0, "", &no_rec),
		OPT("--pq-required", OPT_FLAG, 0, 0, "", &pq),
	};
	struct hl_contract k;
	struct hl_contract_bundle *b = NULL;
	struct hl_contact ct;
	struct session ss;
	struct hl_rng rng = hl_rng_os();
	uint64_t start;
	const char *why;
	char idtext[33];
	int rc, npos, err;

	rc = parse_opts("schedule", argc, argv, t, HL_ARRAY_SIZE(t),
			schedule_usage, pos, 1, &npos);
	if (rc)
		return rc;
	if (npos != 1)
		return bad("schedule", "name the CONTACT to call");
	if (!at)
		return bad("schedule", "say when with --at TIME");
	if (!parse_time(at, &start))
		return bad("schedule",
			   "--at must be 'now' or an ISO 8601 time such as "
			   "2026-12-03T15:00Z, not '%s'",
			   at);
	if (!rng.fill)
		return fail("schedule", "the system's random generator is "
					"not available");
	memset(&ss, 0, sizeof(ss));
	rc = open_home("schedule", &c, false, &ss.h);
	if (rc)
		return rc;
	if (hl_home_contact_by_name(ss.h, pos[0], &ct)) {
		rc = fail("schedule",
			  "'%s' is not a contact: pin their key first with "
			  "'hotline contact add %s PUBLIC_KEY'",
			  pos[0], pos[0]);
		goto out;
	}
	rc = load_identity("schedule", &c, ss.h, &ss.id);
	if (rc)
		goto out;
	ss.have_id = true;
	memset(&k, 0, sizeof(k));
	rng.fill(rng.ctx, k.call_id, sizeof(k.call_id));
	memcpy(k.proposer, ss.id.pk, HL_ID_PK_LEN);
	memcpy(k.invitee, ct.pk, HL_ID_PK_LEN);
	k.not_before = start;
	k.not_after = start + (uint64_t)duration * 60;
	k.created = now_unix();
	k.policy = (relay_only ? HL_POLICY_RELAY_ONLY : 0) |
		   (no_rec ? HL_POLICY_NO_RECORDING : 0) |
		   (pq ? HL_POLICY_PQ_REQUIRED : 0);
	k.n_suites = 1;
	k.suites[0] = HL_AKE_SUITE_X25519_ED25519_SHA256;
	memcpy(k.proposer_name, ss.id.name, strlen(ss.id.name) + 1);
	for (int i = 0; i < topics.n; i++) {
		size_t len = strlen(topics.items[i]);

		if (len > HL_CONTRACT_TOPIC_MAX) {
			rc = bad("schedule", "topic %d is longer than %d bytes",
				 i + 1, HL_CONTRACT_TOPIC_MAX);
			goto out;
		}
		memcpy(k.topics[i], topics.items[i], len + 1);
	}
	k.n_topics = (uint8_t)topics.n;
	if (hl_contract_check(&k, &why)) {
		rc = bad("schedule", "this call cannot be proposed: %s", why);
		goto out;
	}
	b = hl_malloc(sizeof(*b));
	if (!b) {
		rc = fail("schedule", "out of memory");
		goto out;
	}
	err = hl_contract_propose(&k, &ss.id, b);
	if (err) {
		rc = fail("schedule", "cannot sign the contract: %s",
			  hl_strerror(err));
		goto out;
	}
	rc = connect_server("schedule", &c, ss.h, &ss.id, &ss.s);
	if (rc)
		goto out;
	if (hl_signal_put_contract(ss.s, b)) {
		rc = fail("schedule",
			  "the server did not take the proposal: "
			  "%s",
			  hl_signal_error(ss.s));
		goto out;
	}
	if (save_bundle(ss.h, b))
		fprintf(stderr,
			"%s schedule: the server has the proposal but "
			"it could not be kept locally\n",
			prog);
	hl_call_id_to_text(k.call_id, idtext);
	printf("%s\n", idtext);
	rc = 0;
out:
	hl_free(b);
	session_close(&ss);
	return rc;
}

/* ---- listing ---------------------------------------------------------- */

static json_t *bundle_json(struct hl_home *h, const struct hl_identity *me,
			   const struct hl_contract_bundle *b)
{
	const struct hl_contract *k = &b->c;
	bool mine = is_me(me, k->proposer);
	const uint8_t *peer = mine ? k->invitee : k->proposer;
	struct hl_contact ct;
	const char *name = peer_name(h, peer, &ct);
	char id[33], key[HL_ID_TEXT_LEN + 1], t0[32], t1[32];
	json_t *topics = json_array(), *pol = json_array();

	hl_call_id_to_text(k->call_id, id);
	hl_pubkey_to_text(peer, key);
	iso_utc(k->not_before, t0, sizeof(t0));
	iso_utc(k->not_after, t1, sizeof(t1));
	for (int i = 0; i < k->n_topics; i++)
		json_array_append_new(topics, json_string(k->topics[i]));
	if (k->policy & HL_POLICY_RELAY_ONLY)
		json_array_append_new(pol, json_string("relay-only"));
	if (k->policy & HL_POLICY_NO_RECORDING)
		json_array_append_new(pol, json_string("no-recording"));
	if (k->policy & HL_POLICY_PQ_REQUIRED)
		json_array_append_new(pol, json_string("pq-required"));
	return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:b, s:s, s:s, s:o, "
			 "s:o, s:s}",
			 "call_id", id, "state",
			 hl_contract_state_name(hl_contract_bundle_state(b)),
			 "role", mine ? "proposer" : "invitee", "peer", name,
			 "peer_key", key, "pinned", name != NULL, "not_before",
			 t0, "not_after", t1, "topics", topics, "policy", pol,
			 "proposer_name", k->proposer_name);
}

static void print_line(struct hl_home *h, const struct hl_identity *me,
		       const struct hl_contract_bundle *b)
{
	const struct hl_contract *k = &b->c;
	bool mine = is_me(me, k->proposer);
	const uint8_t *peer = mine ? k->invitee : k->proposer;
	struct hl_contact ct;
	const char *name = peer_name(h, peer, &ct);
	char id[33], key[HL_ID_TEXT_LEN + 1], t0[40];

	hl_call_id_to_text(k->call_id, id);
	time_text(k->not_before, t0, sizeof(t0));
	printf("%s  %-9s  %s %-16s  %s, %llu min", id,
	       hl_contract_state_name(hl_contract_bundle_state(b)),
	       mine ? "to  " : "from", name ? name : "(UNPINNED)", t0,
	       (unsigned long long)((k->not_after - k->not_before) / 60));
	for (int i = 0; i < k->n_topics; i++)
		printf("%s%s", i ? "; " : "  topics: ", k->topics[i]);
	printf("\n");
	if (!name) {
		hl_pubkey_to_text(peer, key);
		printf("    refused until you pin this key: %s (it calls "
		       "itself '%s')\n",
		       key, k->proposer_name);
	}
}

static int list_cmd(const char *cmd, int argc, char **argv, bool invites,
		    void (*help)(FILE *))
{
	struct common c = {0};
	struct opt t[] = {
		COMMON_OPTS(&c),
		OPT("--json", OPT_FLAG, 0, 0, "", &c.json),
	};
	struct hl_contract_bundle *list = NULL;
	struct session ss;
	json_t *arr = NULL;
	size_t n = 0, shown = 0;
	uint64_t now;
	int rc;

	rc = parse_opts(cmd, argc, argv, t, HL_ARRAY_SIZE(t), help, NULL, 0,
			NULL);
	if (rc)
		return rc;
	rc = session_open(cmd, &c, &ss);
	if (!rc)
		rc = fetch(cmd, ss.h, ss.s, &list, &n);
	if (rc)
		goto out;
	now = now_unix();
	if (c.json)
		arr = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct hl_contract_bundle *b = &list[i];

		if (invites &&
		    (is_me(&ss.id, b->c.proposer) ||
		     hl_contract_bundle_state(b) != HL_CONTRACT_PROPOSED ||
		     b->c.not_after <= now))
			continue;
		shown++;
		if (arr)
			json_array_append_new(arr,
					      bundle_json(ss.h, &ss.id, b));
		else
			print_line(ss.h, &ss.id, b);
	}
	if (arr) {
		char *s = json_dumps(arr, JSON_INDENT(2));

		if (s)
			puts(s);
		free(s);
		json_decref(arr);
	} else if (!shown) {
		printf(invites ? "no invitations waiting\n" : "no calls yet\n");
	}
out:
	hl_free(list);
	session_close(&ss);
	return rc;
}

static void invites_usage(FILE *f)
{
	fprintf(f, "usage: hotline invites [--json] [--server URL] [--home "
		   "DIR] [--passphrase-file F]\n\n"
		   "Proposals waiting for your confirmation, each verified; "
		   "one from a key you\nhave not pinned is shown as refused "
		   "until you pin it.\n");
}

static void calls_usage(FILE *f)
{
	fprintf(f, "usage: hotline calls [--json] [--server URL] [--home DIR] "
		   "[--passphrase-file F]\n\n"
		   "Your calls (proposed, confirmed, declined), each "
		   "verified.\n");
}

int cmd_invites(int argc, char **argv)
{
	return list_cmd("invites", argc, argv, true, invites_usage);
}

int cmd_calls(int argc, char **argv)
{
	return list_cmd("calls", argc, argv, false, calls_usage);
}

/* ---- confirm / decline ----------------------------------------------- */

static void answer_usage(FILE *f)
{
	fprintf(f, "usage: hotline confirm CALL_ID [--server URL] [--home DIR] "
		   "[--passphrase-file F]\n"
		   "       hotline decline CALL_ID [...]\n\n"
		   "Countersign (or decline) a proposal addressed to you.  "
		   "The proposer's key\nmust be pinned.\n");
}

int cmd_answer(int argc, char **argv)
{
	const char *cmd = argv[0];
	bool confirm = strcmp(cmd, "confirm") == 0;
	struct common c = {0};
	struct opt t[] = {COMMON_OPTS(&c)};
	struct hl_contract_bundle *list = NULL, *b;
	uint8_t id[HL_CALL_ID_LEN];
	struct hl_contact ct;
	struct session ss;
	const char *pos[1];
	char t0[40];
	size_t n = 0;
	int rc, npos, err;

	rc = parse_opts(cmd, argc, argv, t, HL_ARRAY_SIZE(t), answer_usage, pos,
			1, &npos);
	if (rc)
		return rc;
	if (npos != 1)
		return bad(cmd, "give the CALL_ID");
	if (hl_call_id_from_text(pos[0], id))
		return bad(cmd, "'%s' is not a call id (32 hex digits)",
			   pos[0]);
	rc = session_open(cmd, &c, &ss);
	if (!rc)
		rc = fetch(cmd, ss.h, ss.s, &list, &n);
	if (rc)
		goto out;
	b = find_call(list, n, id);
	if (!b) {
		rc = fail(cmd, "there is no call %s for you on this server",
			  pos[0]);
		goto out;
	}
	if (!is_me(&ss.id, b->c.invitee)) {
		rc = fail(cmd,
			  "you proposed call %s; only the invitee can "
			  "confirm or decline it",
			  pos[0]);
		goto out;
	}
	if (hl_contract_bundle_state(b) != HL_CONTRACT_PROPOSED) {
		rc = fail(cmd, "call %s is already %s", pos[0],
			  hl_contract_state_name(hl_contract_bundle_state(b)));
		goto out;
	}
	if (confirm && !peer_name(ss.h, b->c.proposer, &ct)) {
		char key[HL_ID_TEXT_LEN + 1];

		hl_pubkey_to_text(b->c.proposer, key);
		rc = fail(cmd,
			  "REFUSED: the proposer's key %s (it calls itself "
			  "'%s') is not pinned; check it with them and pin "
			  "it with 'hotline contact add NAME KEY' first",
			  key, b->c.proposer_name);
		goto out;
	}
	if (confirm && b->c.not_after <= now_unix()) {
		rc = fail(cmd, "call %s has already ended", pos[0]);
		goto out;
	}
	err = confirm ? hl_contract_accept(b, &ss.id)
		      : hl_contract_decline(b, &ss.id);
	if (err) {
		rc = fail(cmd, "cannot sign: %s", hl_strerror(err));
		goto out;
	}
	if (hl_signal_answer(ss.s, b)) {
		rc = fail(cmd, "the server did not take the answer: %s",
			  hl_signal_error(ss.s));
		goto out;
	}
	if (save_bundle(ss.h, b))
		fprintf(stderr, "%s %s: could not keep a local copy\n", prog,
			cmd);
	time_text(b->c.not_before, t0, sizeof(t0));
	if (confirm)
		printf("confirmed %s: call with %s at %s\n", pos[0], ct.name,
		       t0);
	else
		printf("declined %s\n", pos[0]);
out:
	hl_free(list);
	session_close(&ss);
	return rc;
}

/* ---- verify ----------------------------------------------------------- */

static void verify_usage(FILE *f)
{
	fprintf(f,
		"usage: hotline verify CALL_ID [--json] [--timeout S] "
		"[--server URL] [--home DIR]\n"
		"                      [--passphrase-file F]\n"
		"\n"
		"Run the call's authenticated key exchange with the other "
		"party now (both\nrun verify at about the same time; it waits "
		"up to --timeout seconds,\ndefault 60).  Prints the peer, the "
		"pair's safety number and the SAS: read\nthe four words to "
		"each other.  If they differ, someone is in between.\n");
}

int cmd_verify(int argc, char **argv)
{
	struct common c = {0};
	unsigned timeout = VERIFY_TIMEOUT_S;
	struct opt t[] = {
		COMMON_OPTS(&c),
		OPT("--json", OPT_FLAG, 0, 0, "", &c.json),
		OPT("--timeout", OPT_U32, 1, 3600,
		    "a number of seconds from 1 to 3600", &timeout),
	};
	struct hl_contract_bundle *list = NULL, *b = NULL;
	struct hl_ake_params p;
	struct hl_ake_result *res = NULL;
	struct exchange x;
	struct hl_contact ct;
	struct session ss;
	const uint8_t *peer;
	const char *pos[1];
	char key[HL_ID_TEXT_LEN + 1], sn[HL_SAFETY_DIGITS + 1], grouped[80];
	char idtext[33];
	bool initiator;
	int rc, npos, err;

	memset(&x, 0, sizeof(x));
	rc = parse_opts("verify", argc, argv, t, HL_ARRAY_SIZE(t), verify_usage,
			pos, 1, &npos);
	if (rc)
		return rc;
	if (npos != 1)
		return bad("verify", "give the CALL_ID");
	rc = open_call("verify", &c, pos[0], &ss, &list, &b, &ct);
	if (rc)
		goto out;
	initiator = is_me(&ss.id, b->c.proposer);
	peer = initiator ? b->c.invitee : b->c.proposer;
	memset(&p, 0, sizeof(p));
	p.role = initiator ? HL_AKE_INITIATOR : HL_AKE_RESPONDER;
	p.me = &ss.id;
	memcpy(p.peer, peer, HL_ID_PK_LEN);
	memcpy(p.call_id, b->c.call_id, HL_CALL_ID_LEN);
	memcpy(p.contract_hash, b->hash, HL_CONTRACT_HASH_LEN);
	p.policy = b->c.policy;
	p.suites = b->c.suites;
	p.n_suites = b->c.n_suites;
	p.rng = hl_rng_os();
	err = hl_ake_new(&x.a, &p);
	if (err) {
		rc = fail("verify", "cannot start the key exchange: %s",
			  hl_strerror(err));
		goto out;
	}
	x.params = &p;
	x.s = ss.s;
	x.call_id = b->c.call_id;
	x.peer = peer;
	if (!c.json) {
		x.cmd_name = "verify";
		x.peer_name = ct.name; /* a live line on a terminal */
		if (!isatty(2))
			fprintf(stderr, "%s verify: waiting for %s...\n", prog,
				ct.name);
	}
	rc = run_exchange("verify", &x, initiator,
			  hl_clock_now_us() / 1000 + (uint64_t)timeout * 1000);
	if (rc)
		goto out;
	res = hl_malloc(sizeof(*res));
	if (!res || hl_ake_result(x.a, res)) {
		rc = fail("verify", "the key exchange gave no result");
		goto out;
	}
	hl_pubkey_to_text(peer, key);
	hl_call_id_to_text(b->c.call_id, idtext);
	if (hl_safety_number_pair(ss.id.pk, peer, sn))
		sn[0] = 0;
	group5(sn, grouped, sizeof(grouped));
	if (c.json) {
		json_t *o = json_pack(
			"{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "call_id",
			idtext, "role", initiator ? "initiator" : "responder",
			"peer", ct.name, "peer_key", key, "safety_number", sn,
			"sas", res->sas, "suite",
			res->suite == HL_AKE_SUITE_X25519_ED25519_SHA256
				? "X25519_ED25519_SHA256"
				: "unknown");
		char *s = json_dumps(o, JSON_INDENT(2));

		json_decref(o);
		if (s)
			puts(s);
		free(s);
	} else {
		printf("call:          %s\n", idtext);
		printf("peer:          %s (%s)\n", ct.name, key);
		printf("safety number: %s\n", grouped);
		printf("SAS:           %s\n", res->sas);
		printf("\nRead the four words to %s.  If theirs differ, "
		       "someone is in between: do not\nhold the call.\n",
		       ct.name);
	}
	rc = 0;
out:
	if (res) {
		hl_wipe(res, sizeof(*res));
		hl_free(res);
	}
	hl_ake_free(x.a);
	hl_free(list);
	session_close(&ss);
	return rc;
}
