/* curve.h: ZeroMQ CURVE security and roles on the bus. Off by default (local endpoints, one
 * machine); with keys every socket of a process is encrypted and authenticated:
 *
 *   - with --curve-key, every endpoint the process binds (the broker's, fetch's ingest socket)
 *     requires CURVE. A ZAP handler on the service's loop decides who gets in:
 *       --curve-roles DIR (the broker): DIR/<role>/<name>.pub for the roles fetch, worker,
 *         store and subscriber. A key gets in only on the sockets its role may use (the
 *         broker's table, nw_broker_admits) and the peer's messages carry its role as the
 *         ZAP "User-Id" and its key as the "X-Key" property (zmq_msg_gets), so the broker
 *         checks each message against the role too (nw_curve_peer_role);
 *       --curve-allow DIR (fetch's ingest socket): any key in DIR/<name>.pub;
 *     anything else is refused, logged with its Z85 key and counted in
 *     nw_curve_refused_total{socket,reason}.
 *   - with --curve-key and --curve-server, every endpoint it connects to (the broker) is
 *     reached over CURVE and the server must hold that public key.
 *
 * Without CURVE a process may only use ipc://, inproc:// and loopback TCP, unless it is given
 * --insecure (nw_curve_check_endpoint): plain ZeroMQ across hosts is readable and writable by
 * anyone on the path.
 *
 * `newswire keygen NAME` writes NAME.key (the pair, mode 0600) and NAME.pub; `newswire keygen
 * --set DIR` the broker's pair, one pair per role and the DIR/roles/ tree. The settings are per
 * process, read once at start-up (nw_curve_init), before any socket is made. */
#ifndef NW_CURVE_H
#define NW_CURVE_H

#include <stddef.h>
#include <uv.h>
#include <zmq.h>

#include "newswire/config.h"
#include "newswire/zsock.h"

typedef struct nw_curve_cfg {
    const char *key;    /* this process's key file (NAME.key) */
    const char *server; /* the broker's public key: a .pub file or the 40-character Z85 text */
    const char *allow;  /* directory of the .pub files of the clients allowed in */
    const char *roles;  /* directory of role directories: <roles>/<role>/<name>.pub */
} nw_curve_cfg_t;

/* The roles a peer of the bus can hold (a bit set: one key may be listed under several). */
#define NW_ROLE_FETCH 1u
#define NW_ROLE_WORKER 2u
#define NW_ROLE_STORE 4u
#define NW_ROLE_SUBSCRIBER 8u
#define NW_ROLE_COUNT 4 /* the roles above, one directory each under --curve-roles */
/* The other broker of a pair (ha.h): a peer presenting the broker's own public key. It is in
 * no directory; the ZAP handler gives it to our own key when roles are on. */
#define NW_ROLE_BROKER 16u
/* "fetch", "worker", "store", "subscriber" for one bit; NULL for anything else. */
const char *nw_curve_role_name(unsigned role);
/* The role bit named by name[0..n), or 0. */
unsigned nw_curve_role_parse(const char *name, size_t n);

/* Table entries for a process that connects to the broker / one that binds endpoints. */
#define NW_CURVE_KEY_OPTION(type, m)                                                               \
    {                                                                                              \
        "curve-key", NW_CFG_STR, NULL, offsetof(type, m.key),                                      \
            "CURVE key file from `newswire keygen` (encrypts every ZeroMQ socket; default: off)",  \
            0, 0                                                                                   \
    }
#define NW_CURVE_SERVER_OPTION(type, m)                                                            \
    {                                                                                              \
        "curve-server", NW_CFG_STR, NULL, offsetof(type, m.server),                                \
            "the broker's public key (.pub file or Z85 text); needed with --curve-key", 0, 0       \
    }
#define NW_CURVE_ALLOW_OPTION(type, m)                                                             \
    {                                                                                              \
        "curve-allow", NW_CFG_STR, NULL, offsetof(type, m.allow),                                  \
            "directory of the .pub keys of clients allowed to connect (default: any with our "     \
            "key)",                                                                                \
            0, 0                                                                                   \
    }

#define NW_CURVE_ROLES_OPTION(type, m)                                                             \
    {                                                                                              \
        "curve-roles", NW_CFG_STR, NULL, offsetof(type, m.roles),                                  \
            "directory with one directory of .pub keys per role (fetch, worker, store, "           \
            "subscriber), from `newswire keygen --set`; needed with --curve-key",                  \
            0, 0                                                                                   \
    }
#define NW_CURVE_INSECURE_HELP                                                                     \
    "allow plain ZeroMQ (no CURVE) on endpoints that are not ipc://, inproc:// or loopback TCP"

/* What a process does with ZeroMQ endpoints. */
#define NW_CURVE_CONNECTS 1
#define NW_CURVE_BINDS 2

/* Read and check the keys (roles: NW_CURVE_CONNECTS | NW_CURVE_BINDS). Returns 0 (also when
 * CURVE is off) or -EINVAL with a message for the user in err. */
int nw_curve_init(const nw_curve_cfg_t *cfg, int roles, char *err, size_t errlen);

/* The server public key connecting sockets trust (Z85), or "" when CURVE is off. */
const char *nw_curve_server_key(void);

/* True when CURVE is on in this process (a key was given). */
int nw_curve_on(void);
/* True when --curve-roles was loaded: the broker enforces roles. */
int nw_curve_roles_on(void);

/* Is endpoint (tcp://host:port, ipc://, inproc://) safe without CURVE: ipc://, inproc:// and
 * TCP on 127.0.0.0/8, ::1 or localhost. A bind on "*" or 0.0.0.0 is not. A comma-separated
 * list (a broker pair) is local when every entry is. */
int nw_curve_endpoint_local(const char *endpoint);
/* The start-up rule for an endpoint named by option (e.g. "broker"): 0 when it is local, CURVE
 * is on, or insecure is set (then a loud warning is logged once and the gauge nw_insecure is
 * 1); otherwise -EPERM with a message for the user in err. */
int nw_curve_check_endpoint(const char *endpoint, const char *option, int insecure, char *err,
                            size_t errlen);
/* True once nw_curve_check_endpoint let an endpoint through on --insecure (for /healthz). */
int nw_curve_insecure(void);

/* Apply the settings to a socket before zmq_connect / zmq_bind; no-ops when CURVE is off.
 * nw_curve_server_as names the socket for the ZAP handler (its ZAP domain, e.g. "raw.in"),
 * which is what the roles policy decides on. Return 0 or -errno. */
int nw_curve_client(void *socket);
/* The same for a broker connecting to the other broker of its pair, which holds the same key
 * pair: the server key is our own public key. */
int nw_curve_client_self(void *socket);
int nw_curve_server(void *socket);
int nw_curve_server_as(void *socket, const char *domain);

/* Which roles may connect to the socket named domain (a NW_ROLE_* set). */
typedef unsigned (*nw_curve_policy_fn)(const char *domain);

/* Start the ZAP handler, on loop, in zctx (the context of the sockets it guards; call before
 * they bind). With --curve-roles, policy decides per socket (it must not be NULL then); with
 * --curve-allow any listed key gets in. *out is NULL when CURVE is off or there is no list.
 * The caller closes it with nw_zsock_close when draining. Returns 0 or -errno. */
int nw_curve_zap_start(uv_loop_t *loop, void *zctx, nw_curve_policy_fn policy, nw_zsock_t **out);

/* The roles (NW_ROLE_* bits) the ZAP handler gave the peer that sent msg, 0 when none
 * (CURVE or roles off, or a message the socket made itself). */
unsigned nw_curve_peer_role(zmq_msg_t *msg);
/* Refuse a message a peer sent outside its role: log it (at most once a minute per key and
 * socket) with the peer's role and Z85 key from msg's properties, and count it in
 * nw_curve_refused_total{socket,reason}. what says what was refused (e.g. "type \"enriched\""). */
void nw_curve_refuse_msg(const char *socket, zmq_msg_t *msg, const char *what);

/* Write NAME.key (0600, refused if it exists) and NAME.pub. Returns 0 or -errno with err set. */
int nw_curve_keygen(const char *name, char *err, size_t errlen);

/* The whole set in dir (made 0700 if missing): broker.key/.pub, <role>.key/.pub per role, and
 * roles/<role>/<role>.pub, the tree the broker's --curve-roles reads. With only_role (a role
 * name), add one more pair name.key/.pub (name defaults to the role) to an existing set and
 * list it under roles/<role>/. Nothing is overwritten. Returns 0 or -errno with err set. */
int nw_curve_keygen_set(const char *dir, const char *only_role, const char *name, char *err,
                        size_t errlen);

#endif
