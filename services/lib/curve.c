/* curve.c: CURVE keys, socket options and the ZAP allow-list handler (see curve.h).
 *
 * Key files are text: "public-key = <Z85>" and, in NAME.key only, "secret-key = <Z85>"; lines
 * starting with '#' are comments. ZAP (ZeroMQ RFC 27) requests arrive on a REP socket bound to
 * inproc://zeromq.zap.01 of the same context; the answer is 200 for a CURVE client whose key is
 * in the allow list and 400 otherwise. */
#include "newswire/curve.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "newswire/log.h"
#include "newswire/metrics.h"
#include "newswire/stage.h"
#include "newswire/util.h"

#define Z85_KEY 40 /* a 32-byte key in Z85 text */
#define MAX_ALLOWED 4096
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_DOMAIN "newswire"

/* A key from an allow list and the roles it holds (0 in a --curve-allow list: no roles). */
struct allowed_key {
    uint8_t key[32];
    unsigned roles;
};

static struct {
    int on;                      /* a key was given */
    int connects;                /* connecting sockets use CURVE (a server key was given) */
    int insecure;                /* plain ZeroMQ off loopback, allowed by --insecure */
    char pub[Z85_KEY + 1];       /* ours */
    char sec[Z85_KEY + 1];       /* ours */
    char server[Z85_KEY + 1];    /* the broker's */
    struct allowed_key *allowed; /* from --curve-allow or --curve-roles */
    size_t n_allowed;
    int have_allow; /* --curve-allow: any listed key, every socket */
    int have_roles; /* --curve-roles: listed keys, the sockets of their roles */
    nw_curve_policy_fn policy;
} curve;

/* The last, "broker", is no directory of --curve-roles: it is the key pair the broker holds
 * itself, which the other broker of a pair presents on the ha socket (ha.h). */
static const char *const role_names[NW_ROLE_COUNT + 1] = {"fetch", "worker", "store", "subscriber",
                                                          "broker"};

const char *
nw_curve_role_name(unsigned role)
{
    for (int i = 0; i < NW_ROLE_COUNT; i++)
        if (role == 1u << i)
            return role_names[i];
    return NULL;
}

unsigned
nw_curve_role_parse(const char *name, size_t n)
{
    for (int i = 0; name && i < NW_ROLE_COUNT; i++)
        if (strlen(role_names[i]) == n && memcmp(role_names[i], name, n) == 0)
            return 1u << i;
    return 0;
}

__attribute__((format(printf, 3, 4))) static int
fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && n)
        vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* A Z85 key: 40 characters that decode to 32 bytes. */
static int
valid_z85(const char *s, size_t n)
{
    uint8_t bin[32];
    char tmp[Z85_KEY + 1];
    if (n != Z85_KEY)
        return 0;
    memcpy(tmp, s, Z85_KEY);
    tmp[Z85_KEY] = 0;
    return zmq_z85_decode(bin, tmp) != NULL;
}

/* The value of "name = value" in a key file's text, into out (Z85_KEY + 1 bytes). */
static int
key_field(const char *text, const char *name, char *out)
{
    size_t nl = strlen(name);
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        while (len && (p[len - 1] == '\r' || p[len - 1] == ' '))
            len--;
        if (len > nl && strncmp(p, name, nl) == 0) {
            /* "name = value": the value may itself start with '=' (a Z85 digit) */
            const char *v = p + nl, *end = p + len;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            if (v == end || *v++ != '=')
                return -EINVAL;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            size_t vn = (size_t)(end - v);
            if (valid_z85(v, vn)) {
                memcpy(out, v, Z85_KEY);
                out[Z85_KEY] = 0;
                return 0;
            }
            return -EINVAL;
        }
        p = eol ? eol + 1 : NULL;
    }
    return -ENOENT;
}

static int
read_text(const char *path, char **out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = nw_read_file(path, 64 * 1024, &buf, &len);
    if (rc < 0)
        return rc;
    char *s = realloc(buf, len + 1);
    if (s == NULL) {
        free(buf);
        return -ENOMEM;
    }
    s[len] = 0;
    *out = s;
    return 0;
}

/* A public key given as a file holding "public-key = ..." or as Z85 text. A file that exists
 * wins: a 40-character path is also valid Z85. */
static int
public_key(const char *arg, char *out, char *err, size_t n)
{
    if (access(arg, F_OK) < 0 && valid_z85(arg, strlen(arg))) {
        memcpy(out, arg, Z85_KEY + 1);
        return 0;
    }
    char *text = NULL;
    int rc = read_text(arg, &text);
    if (rc < 0)
        return fail(err, n, "cannot read the public key \"%s\": %s", arg, strerror(-rc));
    rc = key_field(text, "public-key", out);
    free(text);
    return rc < 0 ? fail(err, n, "\"%s\" holds no valid public-key line", arg) : 0;
}

/* A secret key that others can read is a key others may hold: say so at start-up (a warning,
 * not a refusal, because containers often mount secrets with group read and the operator may
 * have meant it), and count it so a dashboard sees it. */
static void
warn_if_loose(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0 || (st.st_mode & 077) == 0)
        return;
    nw_metrics_add(nw_metrics_counter("nw_curve_key_loose_total", NULL,
                                      "secret key files loaded with group or other permissions"),
                   1);
    NW_WARN(NULL,
            "curve key file is accessible to others path=\"%s\" mode=%03o: "
            "chmod 600 it",
            path, (unsigned)(st.st_mode & 0777));
}

/* Add the keys of dir/<name>.pub to the allow list with role (0 for --curve-allow); a key
 * already listed gains the role. opt names the option for messages. */
static int
load_dir(const char *dir, unsigned role, const char *opt, char *err, size_t n)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return fail(err, n, "cannot read --%s \"%s\": %s", opt, dir, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".pub") != 0)
            continue;
        char path[4096], z85[Z85_KEY + 1];
        uint8_t bin[32];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if ((rc = public_key(path, z85, err, n)) < 0)
            break;
        zmq_z85_decode(bin, z85);
        size_t i = 0;
        while (i < curve.n_allowed && memcmp(curve.allowed[i].key, bin, 32) != 0)
            i++;
        if (i < curve.n_allowed) {
            curve.allowed[i].roles |= role;
            continue;
        }
        if (curve.n_allowed == MAX_ALLOWED) {
            rc = fail(err, n, "--%s \"%s\": more than %d keys", opt, dir, MAX_ALLOWED);
            break;
        }
        void *grown = realloc(curve.allowed, (curve.n_allowed + 1) * sizeof *curve.allowed);
        if (grown == NULL) {
            rc = fail(err, n, "out of memory");
            break;
        }
        curve.allowed = grown;
        memcpy(curve.allowed[curve.n_allowed].key, bin, 32);
        curve.allowed[curve.n_allowed++].roles = role;
    }
    closedir(d);
    return rc;
}

/* --curve-roles DIR: DIR/<role>/ for each role. A missing role directory means no peer holds
 * that role (a deployment without subscribers); a tree with no key at all is a mistake. */
static int
load_roles(const char *dir, char *err, size_t n)
{
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return fail(err, n, "cannot read --curve-roles \"%s\": %s", dir,
                    errno ? strerror(errno) : "not a directory");
    for (int i = 0; i < NW_ROLE_COUNT; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, role_names[i]);
        if (stat(path, &st) < 0 && errno == ENOENT)
            continue;
        if (load_dir(path, 1u << i, "curve-roles", err, n) < 0)
            return -EINVAL;
    }
    if (curve.n_allowed == 0)
        return fail(err, n,
                    "--curve-roles \"%s\" lists no key: expected %s/<role>/<name>.pub "
                    "(`newswire keygen --set`)",
                    dir, dir);
    return 0;
}

int
nw_curve_init(const nw_curve_cfg_t *cfg, int what, char *err, size_t errlen)
{
    const char *key = cfg->key && *cfg->key ? cfg->key : NULL;
    const char *server = cfg->server && *cfg->server ? cfg->server : NULL;
    const char *allow = cfg->allow && *cfg->allow ? cfg->allow : NULL;
    const char *roles = cfg->roles && *cfg->roles ? cfg->roles : NULL;
    free(curve.allowed);
    memset(&curve, 0, sizeof curve);
    if (key == NULL) {
        if (server || allow || roles)
            return fail(err, errlen,
                        "--curve-server, --curve-allow and --curve-roles need --curve-key");
        return 0;
    }
    if (allow && roles)
        return fail(err, errlen, "give --curve-roles or --curve-allow, not both");
    if (!zmq_has("curve"))
        return fail(err, errlen, "this libzmq was built without CURVE support");
    if ((what & NW_CURVE_CONNECTS) && server == NULL)
        return fail(err, errlen,
                    "--curve-key needs --curve-server (the broker's public key) to connect");
    char *text = NULL;
    int rc = read_text(key, &text);
    if (rc < 0)
        return fail(err, errlen, "cannot read --curve-key \"%s\": %s", key, strerror(-rc));
    warn_if_loose(key);
    int ok = key_field(text, "public-key", curve.pub) == 0 &&
             key_field(text, "secret-key", curve.sec) == 0;
    memset(text, 0, strlen(text));
    free(text);
    if (!ok)
        return fail(err, errlen, "\"%s\" is not a key file from `newswire keygen`", key);
    if (server && public_key(server, curve.server, err, errlen) < 0)
        return -EINVAL;
    if (allow && (what & NW_CURVE_BINDS)) {
        if (load_dir(allow, 0, "curve-allow", err, errlen) < 0)
            return -EINVAL;
        curve.have_allow = 1;
    }
    if (roles && (what & NW_CURVE_BINDS)) {
        if (load_roles(roles, err, errlen) < 0)
            return -EINVAL;
        curve.have_roles = 1;
    }
    curve.on = 1;
    curve.connects = server != NULL;
    return 0;
}

const char *
nw_curve_server_key(void)
{
    return curve.server;
}

int
nw_curve_on(void)
{
    return curve.on;
}

int
nw_curve_roles_on(void)
{
    return curve.on && curve.have_roles;
}

/* ---- endpoints without CURVE ---- */

int
nw_curve_endpoint_local(const char *ep)
{
    /* a broker pair (stage.h): local only if both are */
    if (ep != NULL && strchr(ep, ',') != NULL) {
        char one[NW_EP_MAX];
        for (size_t i = 0; i < nw_ep_list_count(ep); i++)
            if (nw_ep_list_entry(ep, i, one, sizeof one) < 0 || !nw_curve_endpoint_local(one))
                return 0;
        return 1;
    }
    if (ep == NULL || strncmp(ep, "ipc://", 6) == 0 || strncmp(ep, "inproc://", 9) == 0)
        return 1;
    if (strncmp(ep, "tcp://", 6) != 0)
        return 0;
    const char *h = ep + 6, *end;
    char host[256];
    if (strchr(h, ';'))
        return 0; /* "source;destination": judge it as not local rather than parse both */
    if (*h == '[') {
        end = strchr(h, ']');
        h++;
    } else {
        end = strrchr(h, ':');
    }
    if (end == NULL || (size_t)(end - h) >= sizeof host)
        return 0;
    memcpy(host, h, (size_t)(end - h));
    host[end - h] = 0;
    struct in_addr a4;
    struct in6_addr a6;
    if (strcmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return 0; /* "*", an interface or host name: it may well face a network */
}

int
nw_curve_insecure(void)
{
    return curve.insecure;
}

int
nw_curve_check_endpoint(const char *ep, const char *option, int insecure, char *err, size_t n)
{
    if (ep == NULL || *ep == 0 || curve.on || nw_curve_endpoint_local(ep))
        return 0;
    if (!insecure) {
        snprintf(err, n,
                 "refusing plain ZeroMQ on --%s \"%s\": it is not loopback, so anyone on the "
                 "network could read and forge messages; give CURVE keys (`newswire keygen "
                 "--set`, --curve-key) or, on a network you trust, --insecure",
                 option, ep);
        return -EPERM;
    }
    if (!curve.insecure)
        nw_metrics_set(nw_metrics_gauge("nw_insecure", NULL,
                                        "1 when running plain ZeroMQ off loopback (--insecure)"),
                       1);
    curve.insecure = 1;
    NW_WARN(NULL,
            "INSECURE: --%s \"%s\" is not loopback and CURVE is off (--insecure): anyone who "
            "reaches it can read, inject and forge messages on the bus",
            option, ep);
    return 0;
}

static int
set(void *s, int opt, const void *v, size_t n)
{
    return zmq_setsockopt(s, opt, v, n) < 0 ? -zmq_errno() : 0;
}

int
nw_curve_client(void *s)
{
    if (!curve.connects)
        return 0;
    int rc;
    if ((rc = set(s, ZMQ_CURVE_SERVERKEY, curve.server, Z85_KEY)) < 0 ||
        (rc = set(s, ZMQ_CURVE_PUBLICKEY, curve.pub, Z85_KEY)) < 0 ||
        (rc = set(s, ZMQ_CURVE_SECRETKEY, curve.sec, Z85_KEY)) < 0)
        return rc;
    return 0;
}

int
nw_curve_client_self(void *s)
{
    if (!curve.on)
        return 0;
    int rc;
    if ((rc = set(s, ZMQ_CURVE_SERVERKEY, curve.pub, Z85_KEY)) < 0 ||
        (rc = set(s, ZMQ_CURVE_PUBLICKEY, curve.pub, Z85_KEY)) < 0 ||
        (rc = set(s, ZMQ_CURVE_SECRETKEY, curve.sec, Z85_KEY)) < 0)
        return rc;
    return 0;
}

int
nw_curve_server_as(void *s, const char *domain)
{
    if (!curve.on)
        return 0;
    int one = 1, rc;
    if ((rc = set(s, ZMQ_CURVE_SERVER, &one, sizeof one)) < 0 ||
        (rc = set(s, ZMQ_CURVE_SECRETKEY, curve.sec, Z85_KEY)) < 0 ||
        (rc = set(s, ZMQ_ZAP_DOMAIN, domain, strlen(domain))) < 0)
        return rc;
    return 0;
}

int
nw_curve_server(void *s)
{
    return nw_curve_server_as(s, ZAP_DOMAIN);
}

/* ---- refusals ---- */

/* A refused peer usually retries every reconnect interval (100 ms): one log line per key and
 * socket a minute is enough to find it, the counter has the rest. */
#define LOG_SLOTS 64
#define LOG_EVERY_S 60

static struct {
    char key[Z85_KEY + 1];
    char socket[24];
    time_t last;
} logged[LOG_SLOTS];

static int
should_log(const char *key, const char *socket)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    size_t oldest = 0;
    for (size_t i = 0; i < LOG_SLOTS; i++) {
        if (strcmp(logged[i].key, key) == 0 && strcmp(logged[i].socket, socket) == 0) {
            if (now.tv_sec - logged[i].last < LOG_EVERY_S)
                return 0;
            logged[i].last = now.tv_sec;
            return 1;
        }
        if (logged[i].last < logged[oldest].last)
            oldest = i;
    }
    snprintf(logged[oldest].key, sizeof logged[oldest].key, "%s", key);
    snprintf(logged[oldest].socket, sizeof logged[oldest].socket, "%s", socket);
    logged[oldest].last = now.tv_sec;
    return 1;
}

static void
count_refusal(const char *socket, const char *reason)
{
    char labels[96];
    snprintf(labels, sizeof labels, "socket=\"%s\",reason=\"%s\"", socket, reason);
    nw_metrics_add(nw_metrics_counter("nw_curve_refused_total", labels,
                                      "ZeroMQ peers or messages refused: a key not listed "
                                      "(unknown-key), a socket outside the key's role (role), "
                                      "a message outside the peer's role (message)"),
                   1);
}

/* The roles held, as "worker,store" ("none" for no role); out has room for all of them. */
static void
role_list(unsigned roles, char *out, size_t n)
{
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i <= NW_ROLE_COUNT && len < n; i++)
        if (roles & (1u << i))
            len += (size_t)snprintf(out + len, n - len, "%s%s", len ? "," : "", role_names[i]);
    if (len == 0)
        snprintf(out, n, "none");
}

unsigned
nw_curve_peer_role(zmq_msg_t *msg)
{
    const char *id = zmq_msg_gets(msg, "User-Id");
    unsigned roles = 0;
    while (id && *id) {
        size_t n = strcspn(id, ",");
        roles |=
            n == 6 && memcmp(id, "broker", 6) == 0 ? NW_ROLE_BROKER : nw_curve_role_parse(id, n);
        id += n + (id[n] == ',');
    }
    return roles;
}

void
nw_curve_refuse_msg(const char *socket, zmq_msg_t *msg, const char *what)
{
    const char *key = zmq_msg_gets(msg, "X-Key");
    const char *role = zmq_msg_gets(msg, "User-Id");
    const char *addr = zmq_msg_gets(msg, "Peer-Address");
    count_refusal(socket, "message");
    if (should_log(key ? key : "", socket))
        NW_WARN(NULL,
                "curve: refused a message outside the peer's role socket=%s what=%s role=%s "
                "key=\"%s\" address=\"%s\"",
                socket, what, role && *role ? role : "none", key ? key : "", addr ? addr : "");
}

/* ---- ZAP ---- */

/* The roles a key holds; -1 when it is not listed. */
static long
key_roles(const void *key, size_t n)
{
    uint8_t own[32];
    if (n != 32)
        return -1;
    for (size_t i = 0; i < curve.n_allowed; i++)
        if (memcmp(curve.allowed[i].key, key, 32) == 0)
            return curve.allowed[i].roles;
    /* our own public key: the other broker of a pair, which holds the same pair */
    if (curve.have_roles && zmq_z85_decode(own, curve.pub) && memcmp(own, key, 32) == 0)
        return NW_ROLE_BROKER;
    return -1;
}

/* The 6th frame of a ZAP reply: ZMTP properties, here X-Key = the peer's Z85 key, so the
 * broker can name the key when it refuses one of the peer's messages. */
static size_t
key_property(const char *z85, uint8_t *out)
{
    static const char name[] = "X-Key";
    size_t nl = sizeof name - 1, vl = strlen(z85);
    out[0] = (uint8_t)nl;
    memcpy(out + 1, name, nl);
    out[1 + nl] = 0;
    out[2 + nl] = 0;
    out[3 + nl] = 0;
    out[4 + nl] = (uint8_t)vl;
    memcpy(out + 5 + nl, z85, vl);
    return 5 + nl + vl;
}

/* Request frames: version, request id, domain, address, identity, mechanism, credentials.
 * The domain names the socket (nw_curve_server_as); the answer is 200 with the role as user
 * id for a listed key whose role may use that socket, 400 otherwise. */
static void
on_zap(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    (void)arg;
    if (n < 2)
        return; /* a REP socket cannot answer what it cannot address; libzmq never sends this */
    char domain[24] = "", key[Z85_KEY + 1] = "", addr[64] = "", held[64];
    const char *reason = NULL;
    char user[64] = "";
    long roles = -1;
    if (n >= 3) {
        size_t dn =
            zmq_msg_size(&f[2]) < sizeof domain - 1 ? zmq_msg_size(&f[2]) : sizeof domain - 1;
        memcpy(domain, zmq_msg_data(&f[2]), dn);
        for (size_t i = 0; i < dn; i++)
            if (!((domain[i] >= 'a' && domain[i] <= 'z') || domain[i] == '.'))
                domain[i] = '?'; /* it goes into a metric label */
    }
    if (n >= 4) {
        size_t an = zmq_msg_size(&f[3]) < sizeof addr - 1 ? zmq_msg_size(&f[3]) : sizeof addr - 1;
        memcpy(addr, zmq_msg_data(&f[3]), an);
    }
    if (n >= 7 && zmq_msg_size(&f[6]) == 32)
        zmq_z85_encode(key, zmq_msg_data(&f[6]), 32);
    if (n < 7 || zmq_msg_size(&f[5]) != 5 || memcmp(zmq_msg_data(&f[5]), "CURVE", 5) != 0) {
        reason = "mechanism";
    } else if ((roles = key_roles(zmq_msg_data(&f[6]), zmq_msg_size(&f[6]))) < 0) {
        reason = "unknown-key";
    } else if (curve.have_roles) {
        unsigned ok = (unsigned)roles & (curve.policy ? curve.policy(domain) : 0);
        if (ok == 0)
            reason = "role";
        else
            role_list(ok, user, sizeof user); /* the roles it may use here, "fetch,worker" */
    }
    uint8_t props[64];
    size_t plen = reason ? 0 : key_property(key, props);
    const void *bufs[6] = {
        "1.0", zmq_msg_data(&f[1]), reason ? "400" : "200", reason ? "refused" : "OK", user, props};
    size_t lens[6] = {3, zmq_msg_size(&f[1]), 3, reason ? 7 : 2, strlen(user), plen};
    if (reason) {
        count_refusal(domain, reason);
        role_list(roles < 0 ? 0 : (unsigned)roles, held, sizeof held);
        /* say who: the key, so an operator can list it, and what it tried */
        if (should_log(key, domain)) {
            if (curve.have_roles)
                NW_WARN(NULL,
                        "curve: refused a peer socket=%s reason=%s roles=%s key=\"%s\" "
                        "address=\"%s\"",
                        domain, reason, roles < 0 ? "unlisted" : held, key, addr);
            else
                NW_WARN(NULL,
                        "curve: refused a client not in --curve-allow address=\"%s\" key=\"%s\"",
                        addr, key);
        }
    }
    if (nw_zsock_sendv(zs, bufs, lens, 6) < 0)
        NW_WARN(NULL, "curve: cannot answer a ZAP request");
}

int
nw_curve_zap_start(uv_loop_t *loop, void *zctx, nw_curve_policy_fn policy, nw_zsock_t **out)
{
    *out = NULL;
    if (!curve.on || (!curve.have_allow && !curve.have_roles)) {
        if (curve.on)
            NW_WARN(NULL, "curve: no --curve-allow: any client holding our public key may connect");
        return 0;
    }
    curve.policy = policy;
    void *s = zmq_socket(zctx, ZMQ_REP);
    int linger = 0;
    if (s == NULL || zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger) < 0 ||
        zmq_bind(s, ZAP_ENDPOINT) < 0) {
        int rc = -zmq_errno();
        NW_ERROR(NULL, "curve: cannot start the ZAP handler: %s", zmq_strerror(-rc));
        if (s)
            zmq_close(s);
        return rc;
    }
    *out = nw_zsock_new(loop, s, on_zap, NULL);
    if (*out == NULL) {
        zmq_close(s);
        return -ENOMEM;
    }
    if (curve.have_roles) {
        unsigned n[NW_ROLE_COUNT] = {0};
        for (size_t i = 0; i < curve.n_allowed; i++)
            for (int r = 0; r < NW_ROLE_COUNT; r++)
                n[r] += (curve.allowed[i].roles >> r) & 1;
        NW_INFO(NULL, "curve: roles on fetch=%u worker=%u store=%u subscriber=%u", n[0], n[1], n[2],
                n[3]);
    } else {
        NW_INFO(NULL, "curve: %zu client keys allowed", curve.n_allowed);
    }
    return 0;
}

/* ---- keygen ---- */

static int
write_new(const char *path, int mode, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    size_t n = strlen(text);
    int rc = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0 ? 0 : -EIO;
    close(fd);
    if (rc < 0)
        unlink(path);
    return rc;
}

int
nw_curve_keygen(const char *name, char *err, size_t errlen)
{
    char pub[Z85_KEY + 1], sec[Z85_KEY + 1], path[4096], text[512];
    if (!zmq_has("curve"))
        return fail(err, errlen, "this libzmq was built without CURVE support");
    if (zmq_curve_keypair(pub, sec) < 0)
        return fail(err, errlen, "cannot make a key pair: %s", zmq_strerror(zmq_errno()));
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    snprintf(path, sizeof path, "%s.key", name);
    snprintf(text, sizeof text,
             "# newswire CURVE key pair for \"%s\", from `newswire keygen`. Keep it secret:\n"
             "# give it to that process with --curve-key.\n"
             "public-key = %s\nsecret-key = %s\n",
             base, pub, sec);
    int rc = write_new(path, 0600, text);
    memset(text, 0, sizeof text);
    memset(sec, 0, sizeof sec);
    if (rc < 0) {
        fail(err, errlen, "cannot write \"%s\": %s", path, strerror(-rc));
        return rc;
    }
    snprintf(path, sizeof path, "%s.pub", name);
    snprintf(text, sizeof text,
             "# newswire CURVE public key of \"%s\", from `newswire keygen`. Peers that must\n"
             "# trust it list it: --curve-server (for a broker), a --curve-roles directory or\n"
             "# --curve-allow (for a client).\n"
             "public-key = %s\n",
             base, pub);
    if ((rc = write_new(path, 0644, text)) < 0) {
        fail(err, errlen, "cannot write \"%s\": %s", path, strerror(-rc));
        snprintf(path, sizeof path, "%s.key", name);
        unlink(path);
        return rc;
    }
    return 0;
}

/* Copy a public key file into a role directory (never over an existing file). */
static int
copy_pub(const char *from, const char *to, char *err, size_t errlen)
{
    char *text = NULL;
    int rc = read_text(from, &text);
    if (rc == 0)
        rc = write_new(to, 0644, text);
    free(text);
    if (rc < 0)
        fail(err, errlen, "cannot write \"%s\": %s", to, strerror(-rc));
    return rc;
}

static int
make_dir(const char *path, int mode, char *err, size_t errlen)
{
    if (mkdir(path, (mode_t)mode) < 0 && errno != EEXIST) {
        int rc = -errno;
        fail(err, errlen, "cannot make \"%s\": %s", path, strerror(errno));
        return rc;
    }
    return 0;
}

/* One pair dir/name.key/.pub listed under dir/roles/<role>/name.pub. */
static int
role_pair(const char *dir, const char *role, const char *name, char *err, size_t errlen)
{
    char base[4096], pub[4200], listed[4200];
    int rc;
    snprintf(base, sizeof base, "%s/roles/%s", dir, role);
    if ((rc = make_dir(base, 0755, err, errlen)) < 0)
        return rc;
    snprintf(base, sizeof base, "%s/%s", dir, name);
    if ((rc = nw_curve_keygen(base, err, errlen)) < 0)
        return rc;
    snprintf(pub, sizeof pub, "%s.pub", base);
    snprintf(listed, sizeof listed, "%s/roles/%s/%s.pub", dir, role, name);
    return copy_pub(pub, listed, err, errlen);
}

int
nw_curve_keygen_set(const char *dir, const char *only_role, const char *name, char *err,
                    size_t errlen)
{
    char path[4096];
    int rc;
    if (only_role && nw_curve_role_parse(only_role, strlen(only_role)) == 0)
        return fail(err, errlen, "unknown role \"%s\" (fetch, worker, store or subscriber)",
                    only_role);
    if (name && (*name == 0 || strchr(name, '/') || name[0] == '.'))
        return fail(err, errlen, "bad key name \"%s\": a plain file name", name);
    /* secret keys live here: only the owner may list them */
    if ((rc = make_dir(dir, 0700, err, errlen)) < 0)
        return rc;
    snprintf(path, sizeof path, "%s/roles", dir);
    if ((rc = make_dir(path, 0755, err, errlen)) < 0)
        return rc;
    if (only_role)
        return role_pair(dir, only_role, name ? name : only_role, err, errlen);
    snprintf(path, sizeof path, "%s/broker", dir);
    if ((rc = nw_curve_keygen(path, err, errlen)) < 0)
        return rc;
    for (int i = 0; i < NW_ROLE_COUNT; i++)
        if ((rc = role_pair(dir, role_names[i], role_names[i], err, errlen)) < 0)
            return rc;
    return 0;
}
