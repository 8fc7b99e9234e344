/* curve.h: ZeroMQ CURVE security for traffic between hosts. Off by default (local endpoints,
 * one machine); with keys every socket of a process is encrypted and authenticated:
 *
 *   - with --curve-key, every endpoint the process binds (the broker's, fetch's ingest socket)
 *     requires CURVE, and --curve-allow DIR limits clients to the public keys in DIR/<name>.pub
 *     (checked by a ZAP handler on the service's loop; without it any client that knows the
 *     server's public key gets in);
 *   - with --curve-key and --curve-server, every endpoint it connects to (the broker) is
 *     reached over CURVE and the server must hold that public key.
 *
 * `newswire keygen NAME` writes NAME.key (the pair, mode 0600) and NAME.pub. The settings are
 * per process, read once at start-up (nw_curve_init), before any socket is made. */
#ifndef NW_CURVE_H
#define NW_CURVE_H

#include <stddef.h>
#include <uv.h>

#include "newswire/config.h"
#include "newswire/zsock.h"

typedef struct nw_curve_cfg {
    const char *key;    /* this process's key file (NAME.key) */
    const char *server; /* the broker's public key: a .pub file or the 40-character Z85 text */
    const char *allow;  /* directory of the .pub files of the clients allowed in */
} nw_curve_cfg_t;

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

/* What a process does with ZeroMQ endpoints. */
#define NW_CURVE_CONNECTS 1
#define NW_CURVE_BINDS 2

/* Read and check the keys (roles: NW_CURVE_CONNECTS | NW_CURVE_BINDS). Returns 0 (also when
 * CURVE is off) or -EINVAL with a message for the user in err. */
int nw_curve_init(const nw_curve_cfg_t *cfg, int roles, char *err, size_t errlen);

/* The server public key connecting sockets trust (Z85), or "" when CURVE is off. */
const char *nw_curve_server_key(void);

/* Apply the settings to a socket before zmq_connect / zmq_bind; no-ops when CURVE is off.
 * Return 0 or -errno. */
int nw_curve_client(void *socket);
int nw_curve_server(void *socket);

/* Start the ZAP handler that checks clients against --curve-allow, on loop, in zctx (the
 * context of the sockets it guards; call before they bind). *out is NULL when there is no
 * allow list. The caller closes it with nw_zsock_close when draining. Returns 0 or -errno. */
int nw_curve_zap_start(uv_loop_t *loop, void *zctx, nw_zsock_t **out);

/* Write NAME.key (0600, refused if it exists) and NAME.pub. Returns 0 or -errno with err set. */
int nw_curve_keygen(const char *name, char *err, size_t errlen);

#endif
