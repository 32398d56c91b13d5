/*
 * router.h - what the router's files share (router process only):
 *
 *   router.c          setup, poll loop, broker connection, asking the
 *                     monitor to sign, publishing, injecting
 *   router_route.c    received messages: the routing table, heartbeats
 *                     and peer loss, meta documents
 *   router_corr.c     correlation: commands we sent, responses to them,
 *                     {prefix}/meta/corr documents, expiry alerts
 *   router_control.c  requests from the local control socket
 *   router_inject.c   the injection journal, the injectors' queues,
 *                     agent-turn replies
 *   router_handler.c  handler runs: asking the monitor, publishing
 *                     outcomes, sentinel wake-ups
 *   router_audit.c    audit lines, batched, and the link to the monitor
 *   router_held.c     commands read while draining, kept for the next
 *                     start
 */
#ifndef HIVE_ROUTER_H
#define HIVE_ROUTER_H

#include <stdint.h>

#include "compose.h"
#include "config.h"
#include "control.h"
#include "corr.h"
#include "frame.h"
#include "inbound.h"
#include "ipc.h"
#include "metaview.h"
#include "mqtt.h"
#include "policy.h"
#include "ratelimit.h"
#include "ratelog.h"

#define ROUTER_PENDING	256	/* sign requests at the monitor */
#define ROUTER_BATCH	64	/* received messages checked together */
#define ROUTER_BACKLOG_BYTES	(32 << 20)	/* ...and waiting for a slot */
#define ROUTER_PEERS	256
#define ROUTER_ACKS	64
#define ROUTER_SEEN	256
#define ROUTER_INJECT_MAX	512	/* held for the injectors... */
#define ROUTER_INJECT_RESERVED	64	/* ...of which only our own texts
					   take the last ones */
#define ROUTER_STATE_QUIET	5	/* s without a state write failure */
#define ROUTER_DRAIN_MS		25000	/* SIGTERM: wait for injectors */
#define ROUTER_RUNS		256	/* handler runs asked, not done */
#define ROUTER_HANDLERS		128	/* POLICY_MAX_HANDLERS */
#define SENTINEL_STATE_MAX	256	/* a sentinel result's "state" */

/* A handler run asked of the monitor: what its outcome answers. */
struct router_run {
	uint32_t	 tag;		/* 0: free */
	int		 sentinel;	/* a scheduled run: no sender */
	int64_t		 exit_status;	/* the outcome's: -1 unless it exited */
	int64_t		 signal;	/* 0 unless killed */
	char		 syscall[32];	/* killed-by-seccomp: its name */
	int		 ch;		/* CH_COMMAND or CH_SYNC */
	char		 node[NODE_MAX + 1];	/* ours, that runs it */
	char		 from[NODE_MAX + 1];
	char		 id[ENVELOPE_ID_MAX + 1];
	char		 corr[ENVELOPE_ID_MAX + 1];
	char		 kid[KID_HEX_LEN + 1];
	char		 action[ENVELOPE_ACTION_MAX + 1];
};

/* One injection: journaled, then handed to its instance's injector. */
struct router_inj {
	int		 used, sent;
	int		 held;		/* `later` for an agent-turn instance:
					   waits for its scheduled wake */
	uint32_t	 tag;		/* names it to the injector */
	uint64_t	 seq;		/* journal file name, and order */
	int		 slot;		/* injector */
	char		 origin[NODE_MAX + 1];	/* the peer whose message it
						   carries; "": our own */
	char		 instance[NODE_MAX + 1];
	char		 mode[16];
	char		 session[CORR_SESSION_MAX + 1];
	char		*text;
	struct {			/* agent turn: answer this command */
		char	 from[NODE_MAX + 1];	/* "" : no answer */
		char	 to[NODE_MAX + 1];
		char	 corr[ENVELOPE_ID_MAX + 1];
		char	 reply_to[ENVELOPE_ID_MAX + 1];
	} reply;
	struct {			/* a command's corr document to mark
					   failed if this never delivers */
		char	 sender[NODE_MAX + 1];	/* "" : none (not a command,
						   or replayed from the journal) */
		char	 corr[ENVELOPE_ID_MAX + 1];
	} cmd;
};

/* What to do once the monitor has signed an envelope. */
struct router_pending {
	uint32_t	 peer;		/* 0: free slot */
	char		 topic[256];	/* "": do not publish on {p}/{to}/{ch} */
	char		 meta_topic[256];	/* also publish here, retained */
	int		 qos;
	uint32_t	 client;	/* control client to answer, or 0 */
	int		 track;		/* a command of ours: track its corr */
	char		 session[CORR_SESSION_MAX + 1];
	int64_t		 wait;		/* seconds the client waits */
	int64_t		 replies;
};

/* A control client's envelope, published, waiting for its PUBACK. */
struct router_ack {
	int		 mid;
	uint32_t	 client;	/* 0: free */
	char		*wire;
	int		 waits;		/* keep the client for responses */
};

struct router_peer {
	char		 node[NODE_MAX + 1];
	int64_t		 last_seen;
	int		 lost;
	int		 stopped;	/* its state said so: no alert */
};

/* A command received for one of our nodes, so that our reply can mark
 * its {p}/meta/corr document completed. */
struct router_seen {
	char		 corr[ENVELOPE_ID_MAX + 1];
	char		 from[NODE_MAX + 1];	/* the remote sender */
	char		 to[NODE_MAX + 1];	/* our node */
	char		 text[CORR_TEXT_MAX + 1];
	int64_t		 sent_at, ttl;
	int		 ch;		/* CH_COMMAND or CH_SYNC */
};

struct router_deferred;		/* router.c: a sign request waiting */
struct router_sentinel;		/* router_sentinel.c: a last state */

struct router {
	const struct config	*cfg;
	struct policy		*policy;
	char			 nodes[CONFIG_MAX_NODES][NODE_MAX + 1];
	size_t			 nnodes;
	struct keyring		 keyring;
	struct inbound		 in;
	struct mqtt		*mqtt;
	struct control		*ctl;
	struct corr_store	*corr;
	struct metaview		*meta;
	struct router_pending	 pending[ROUTER_PENDING];
	struct router_deferred	*backlog, **backlog_tail;	/* FIFO */
	size_t			 backlog_bytes;
	struct router_ack	 acks[ROUTER_ACKS];
	struct router_peer	 peers[ROUTER_PEERS];
	struct router_seen	 seen[ROUTER_SEEN];
	size_t			 seen_next;
	uint32_t		 next_peer;
	int64_t			 started, next_beat, next_sync, backoff;
	int64_t			 next_connect;
	uint64_t		 injected, delivered, inject_failed;
	uint64_t		 observed;
	size_t			 dropped_seen;	/* mqtt_dropped() logged */
	int			 subscribed, ready;
	struct ratelog		 ratelog;	/* refusal log lines */
	struct ratelimit	 rates;		/* policy "rate" buckets */
	struct ratelimit	 rates_unknown;	/* "rate unknown": one */
	struct router_inj	*inj;		/* ROUTER_INJECT_MAX */
	size_t			 ninj;		/* ...of them used */
	size_t			 ninjectors;
	int			 inj_out[CONFIG_MAX_NODES];	/* sent, open */
	int			 inj_closed[CONFIG_MAX_NODES];
	uint32_t		 next_tag;
	uint64_t		 next_seq;
	int64_t			 later_next[CONFIG_MAX_NODES];	/* by policy
				    instance: its next scheduled wake */
	int			 journal_dirfd;
	int			 draining;
	struct mqtt_msg		*held;		/* router_held.c */
	size_t			 nheld, held_next;
	struct router_run	*runs;		/* ROUTER_RUNS */
	uint32_t		 next_run_tag;
	char			 handlers[ROUTER_HANDLERS]
				    [ENVELOPE_ACTION_MAX + 1];
	size_t			 nhandlers;
	struct router_sentinel	*sentinels;	/* ROUTER_HANDLERS */
	/* the state directory refused a write (window-io, journal-io):
	 * alerted once, cleared after a quiet spell with an admission */
	int			 state_failing;
	int64_t			 state_failed_at;
	uint64_t		 state_accepted_at;
};

/* router_audit.c: audit lines, batched (see there); everything for the
 * monitor goes through router_to_monitor, after the lines before it */
void router_audit(struct router *, const char *event,
    const struct envelope *, const char *reason, const char *detail);
void router_audit_refusal(struct router *, const struct refusal *,
    const char *detail);
void router_audit_flush(void);
void router_to_monitor(uint32_t type, uint32_t peer, const void *,
    size_t);

/* router.c */
void router_refused(struct router *, const char *topic,
    const struct refusal *);
int router_is_local(const struct router *, const char *node);
void router_sign(struct router *, const struct compose_req *,
    const char *from, const char *args, struct router_pending *tmpl);
void router_publish_meta(struct router *, const char *from, const char *to,
    const char *corr, const char *meta_topic, const char *text);
void router_clear_retained(struct router *, const char *topic);

/* router_route.c: the state directory is failing / the timer that
 * notices it recovered */
void router_state_failed(struct router *, const char *reason);
void router_state_check(struct router *, int64_t now);

/* router_inject.c; e: the envelope injected (NULL: our own text) */
void router_inject(struct router *, const char *instance, const char *mode,
    const char *text, const char *session, const struct envelope *e);
int router_inject_auto_reply(const struct router *, const char *instance);
size_t router_inject_held(const struct router *, const char *peer);
void router_inject_setup(struct router *);
void router_injector_msg(struct router *, int slot, const struct ipc_msg *);
int router_inject_outstanding(const struct router *);
void router_inject_timers(struct router *, int64_t now);
void router_inject_free(struct router *);

/* router_handler.c */
void router_handlers_msg(const struct ipc_msg *, void *router);
int router_has_handler(const struct router *, const char *action);
json_t *router_handler_names(const struct router *);
size_t router_runs_active(const struct router *);
void router_run_handler(struct router *, const struct envelope *);
void router_no_handler_respond(struct router *, const struct envelope *);
void router_handler_done(const struct ipc_msg *, void *router);
void router_handler_setup(struct router *);
void router_handler_free(struct router *);

/* router_sentinel.c: each sentinel's last state (wake on change) */
void router_sentinel_setup(struct router *);
void router_sentinel_free(struct router *);
int router_sentinel_changed(struct router *, const char *action,
    const char *state);

/* router_route.c */
int router_gate(void *router, enum inbound_stage, const struct envelope *,
    int known, struct refusal *);
/* every message the receive queue holds, in batches (router_route.c) */
void router_messages(struct router *);
void router_heartbeat(struct router *, int64_t now);
void router_check_peers(struct router *, int64_t now);
void router_roster(struct router *);

void router_stopped(struct router *, int64_t now);

/* router_held.c: commands read while draining, for the next start */
int router_held_wanted(const struct router *, const struct mqtt_msg *);
int router_held_put(struct router *, const struct mqtt_msg *);
void router_held_load(struct router *);
int router_held_take(struct router *, struct mqtt_msg *);
void router_held_done(struct router *);

/* router_corr.c */
void router_corr_setup(struct router *);
void router_track(struct router *, const struct envelope *cmd,
    const struct router_pending *, int64_t now);
int router_answered(const struct envelope *);
void router_observed(struct router *, const struct envelope *cmd, int64_t now);
int router_response(struct router *, const struct envelope *, int64_t now);
void router_command_seen(struct router *, const struct envelope *);
void router_reply_sending(struct router *, const char *from, const char *to,
    const char *corr);
void router_delivery_failed(struct router *, const char *node,
    const char *sender, const char *corr);
int router_meta_corr(struct router *, const struct envelope *, int64_t now,
    struct refusal *);
void router_corr_timers(struct router *, int64_t now);
void router_client_gone(struct router *, uint32_t client);

/* router_control.c */
void router_control_request(uint32_t client, struct ctl_req *, void *);
/* st: 0 the monitor refused (wire: why), 1 published, 2 publish failed */
void router_control_signed(struct router *, const struct router_pending *,
    int st, const char *wire, int mid);
void router_control_acked(struct router *, int mid);

#endif
