/* main.c: the broker process: configuration, the service shell (signals, /metrics, /healthz)
 * and one nw_broker, alone or as one of a primary/backup pair (--peer, --backup). The logic
 * lives in services/lib/broker.c and ha.c. */
#include "newswire/broker.h"
#include "newswire/config.h"
#include "newswire/curve.h"
#include "newswire/service.h"
#include "newswire/stage.h"
#include "newswire/zsock.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The shared service options, with --bind in svc.broker: the endpoints the others connect to.
 * --broker is the same setting under the name every other program gives it, so one config file
 * or environment (`broker = tcp://news1:5550`, NEWSWIRE_BROKER) serves the broker too. */
struct broker_cfg {
    nw_service_cfg_t svc;
    int64_t queue_max;
    int64_t queue_max_bytes;
    int64_t max_msg;
    int64_t heartbeat;
    const char *peer;
    int backup;
};

/* Both keys fill svc.broker. The loader applies defaults, file, environment and flags in that
 * order and, within one of them, the table in order: --bind comes after --broker, so when one
 * place gives both, --bind (the broker's own name) wins. */
static const nw_cfg_opt_t options[] = {
    {"broker", NW_CFG_STR, "tcp://127.0.0.1:5550", offsetof(struct broker_cfg, svc.broker),
     "the same as --bind: the name the other programs use, so one config file serves all", 0, 0},
    {"bind", NW_CFG_STR, "tcp://127.0.0.1:5550", offsetof(struct broker_cfg, svc.broker),
     "base endpoint; the eight stage endpoints are derived from it (tcp port +0..+7)", 0, 0},
    NW_SERVICE_HTTP_OPTION(struct broker_cfg, svc, "", NW_SERVICE_HTTP_HELP),
    {"queue-max", NW_CFG_INT, "10000", offsetof(struct broker_cfg, queue_max),
     "jobs queued per stage before producers are pushed back", 1, 100000000},
    {"queue-max-bytes", NW_CFG_SIZE, "256m", offsetof(struct broker_cfg, queue_max_bytes),
     "payload bytes queued per stage before producers are pushed back", 1024, INT64_C(1) << 40},
    {"max-msg", NW_CFG_SIZE, "64m", offsetof(struct broker_cfg, max_msg),
     "largest frame accepted from any peer (ZMQ_MAXMSGSIZE); larger ones cut the connection", 1024,
     INT64_C(1) << 31},
    {"heartbeat", NW_CFG_MS, "1000", offsetof(struct broker_cfg, heartbeat),
     "heartbeat interval; workers silent for 3 intervals are dropped (a pair: the same on both)",
     10, 60000},
    {"peer", NW_CFG_STR, "", offsetof(struct broker_cfg, peer),
     "the other broker of a primary/backup pair (its base endpoint, as clients reach it); "
     "this one then also binds base + 8 for the pair's state. Clients name both: "
     "--broker PRIMARY,BACKUP. Or give that same pair as --bind (the primary binds the first, "
     "the backup the second) and no --peer",
     0, 0},
    {"backup", NW_CFG_BOOL, "false", offsetof(struct broker_cfg, backup),
     "with --peer: this broker is the backup (it serves only once the primary is gone and a "
     "client lost it too); without it, the primary",
     0, 0},
    NW_SERVICE_LOG_OPTION(struct broker_cfg, svc),
    NW_CURVE_KEY_OPTION(struct broker_cfg, svc.curve),
    NW_CURVE_ROLES_OPTION(struct broker_cfg, svc.curve),
    NW_SERVICE_INSECURE_OPTION(struct broker_cfg, svc),
    NW_CFG_END,
};

static void
on_closed(void *arg)
{
    nw_service_stop(arg);
}

struct broker_app {
    nw_broker_t *broker;
    nw_zsock_t *zap; /* the --curve-roles check, with CURVE */
};

/* "state" in /healthz: active, passive or starting */
static const char *
broker_state(void *arg)
{
    struct broker_app *app = arg;
    return app->broker ? nw_broker_state(app->broker) : "stopped";
}

/* SIGTERM: the broker holds nothing durable, so draining is closing its sockets. */
static void
on_drain(nw_service_t *svc, void *arg)
{
    struct broker_app *app = arg;
    nw_zsock_close(app->zap, NULL, NULL);
    app->zap = NULL;
    nw_broker_close(app->broker, on_closed, svc);
    app->broker = NULL;
}

int
main(int argc, char **argv)
{
    struct broker_cfg cfg = {0}; /* options outside the table (curve.server) stay NULL */
    struct broker_app app = {0};

    int rc = nw_config_load(options, &cfg, argc, argv, "newswire-broker [options]",
                            "Stage queues and topic hub of the newswire pipeline.", NULL, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    /* The pair as the clients name it (one shared --broker / NEWSWIRE_BROKER value, "A,B"):
     * the primary is A and binds it, the backup (--backup) is B; each one's peer is the other. */
    char mine[NW_EP_MAX], other[NW_EP_MAX], peer_ep[NW_EP_MAX];
    if (cfg.peer == NULL)
        cfg.peer = "";
    if (cfg.svc.broker && nw_ep_list_count(cfg.svc.broker) == 2 && !*cfg.peer) {
        if (nw_ep_list_entry(cfg.svc.broker, cfg.backup ? 1 : 0, mine, sizeof mine) < 0 ||
            nw_ep_list_entry(cfg.svc.broker, cfg.backup ? 0 : 1, other, sizeof other) < 0) {
            nw_config_bad_value("bind", cfg.svc.broker, "PRIMARY,BACKUP");
            return 2;
        }
        cfg.svc.broker = mine;
        cfg.peer = other;
    }
    /* `broker = tcp://news1.internal:5550` in a shared file: bind the address clients reach
     * (ZeroMQ binds addresses and interfaces, not names). A longer list fails below, named. */
    static char bind_ep[NW_EP_MAX];
    char err[300];
    if (cfg.svc.broker && nw_ep_list_count(cfg.svc.broker) == 1) {
        if (nw_ep_bindable(cfg.svc.broker, bind_ep, sizeof bind_ep, err, sizeof err) < 0) {
            nw_config_bad_value("bind", cfg.svc.broker, err);
            return 2;
        }
        cfg.svc.broker = bind_ep;
    }
    if (nw_service_config("broker", &cfg.svc, NW_CURVE_BINDS) < 0)
        return 2;
    if (*cfg.peer && nw_ep_derive(cfg.peer, NW_EP_HA, peer_ep, sizeof peer_ep) < 0) {
        nw_config_bad_value("peer", cfg.peer, "tcp://host:port or ipc://path");
        return 2;
    }
    if (*cfg.peer && nw_ep_derive(cfg.svc.broker, NW_EP_HA, peer_ep, sizeof peer_ep) < 0) {
        nw_config_bad_value("bind", cfg.svc.broker, "a base whose port + 8 exists");
        return 2;
    }
    if (cfg.backup && !*cfg.peer) {
        fprintf(stderr, "error: --backup needs --peer (the primary's endpoint)\n");
        return 2;
    }
    /* CURVE without roles would let any key that knows ours publish acks and take jobs */
    if (nw_curve_on() && !nw_curve_roles_on()) {
        fprintf(stderr, "error: --curve-key needs --curve-roles (`newswire keygen --set`): "
                        "without it any key could take any role\n");
        return 2;
    }
    nw_service_t *svc = nw_service_new("broker", cfg.svc.http, on_drain, &app);
    if (!svc)
        return 1;
    nw_zsock_set_max_msg(cfg.max_msg);
    nw_broker_opts_t opts = {.queue_max = (size_t)cfg.queue_max,
                             .queue_max_bytes = (size_t)cfg.queue_max_bytes,
                             .heartbeat_ms = (unsigned)cfg.heartbeat,
                             .roles = nw_curve_roles_on(),
                             .peer = cfg.peer,
                             .backup = cfg.backup};
    nw_service_set_state(svc, broker_state, &app);
    /* the ZAP handler must be bound before the endpoints it guards */
    if (nw_curve_zap_start(nw_service_loop(svc), nw_service_zctx(svc), nw_broker_admits,
                           &app.zap) == 0)
        app.broker =
            nw_broker_new(nw_service_loop(svc), nw_service_zctx(svc), cfg.svc.broker, &opts);
    if (!app.broker) {
        nw_zsock_close(app.zap, NULL, NULL);
        nw_service_stop(svc);
        nw_service_run(svc);
        return 1;
    }
    return nw_service_run(svc);
}
