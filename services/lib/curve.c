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
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "newswire/log.h"
#include "newswire/metrics.h"
#include "newswire/util.h"

#define Z85_KEY 40 /* a 32-byte key in Z85 text */
#define MAX_ALLOWED 4096
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_DOMAIN "newswire"

static struct {
    int on;                   /* a key was given */
    int connects;             /* connecting sockets use CURVE (a server key was given) */
    char pub[Z85_KEY + 1];    /* ours */
    char sec[Z85_KEY + 1];    /* ours */
    char server[Z85_KEY + 1]; /* the broker's */
    uint8_t (*allowed)[32];   /* binary public keys from --curve-allow */
    size_t n_allowed;
    int have_allow;
} curve;

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

static int
load_allow(const char *dir, char *err, size_t n)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return fail(err, n, "cannot read --curve-allow \"%s\": %s", dir, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".pub") != 0)
            continue;
        char path[4096], z85[Z85_KEY + 1];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if ((rc = public_key(path, z85, err, n)) < 0)
            break;
        if (curve.n_allowed == MAX_ALLOWED) {
            rc = fail(err, n, "--curve-allow \"%s\": more than %d keys", dir, MAX_ALLOWED);
            break;
        }
        void *grown = realloc(curve.allowed, (curve.n_allowed + 1) * sizeof *curve.allowed);
        if (grown == NULL) {
            rc = fail(err, n, "out of memory");
            break;
        }
        curve.allowed = grown;
        zmq_z85_decode(curve.allowed[curve.n_allowed++], z85);
    }
    closedir(d);
    return rc;
}

int
nw_curve_init(const nw_curve_cfg_t *cfg, int roles, char *err, size_t errlen)
{
    const char *key = cfg->key && *cfg->key ? cfg->key : NULL;
    const char *server = cfg->server && *cfg->server ? cfg->server : NULL;
    const char *allow = cfg->allow && *cfg->allow ? cfg->allow : NULL;
    free(curve.allowed);
    memset(&curve, 0, sizeof curve);
    if (key == NULL) {
        if (server || allow)
            return fail(err, errlen, "--curve-server and --curve-allow need --curve-key");
        return 0;
    }
    if (!zmq_has("curve"))
        return fail(err, errlen, "this libzmq was built without CURVE support");
    if ((roles & NW_CURVE_CONNECTS) && server == NULL)
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
    if (allow && (roles & NW_CURVE_BINDS)) {
        if (load_allow(allow, err, errlen) < 0)
            return -EINVAL;
        curve.have_allow = 1;
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
nw_curve_server(void *s)
{
    if (!curve.on)
        return 0;
    int one = 1, rc;
    if ((rc = set(s, ZMQ_CURVE_SERVER, &one, sizeof one)) < 0 ||
        (rc = set(s, ZMQ_CURVE_SECRETKEY, curve.sec, Z85_KEY)) < 0 ||
        (rc = set(s, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN))) < 0)
        return rc;
    return 0;
}

/* ---- ZAP ---- */

static int
allowed(const void *key, size_t n)
{
    if (n != 32)
        return 0;
    for (size_t i = 0; i < curve.n_allowed; i++)
        if (memcmp(curve.allowed[i], key, 32) == 0)
            return 1;
    return 0;
}

/* Request frames: version, request id, domain, address, identity, mechanism, credentials. */
static void
on_zap(nw_zsock_t *zs, zmq_msg_t *f, size_t n, void *arg)
{
    (void)arg;
    if (n < 2)
        return; /* a REP socket cannot answer what it cannot address; libzmq never sends this */
    int ok = n >= 7 && zmq_msg_size(&f[5]) == 5 && memcmp(zmq_msg_data(&f[5]), "CURVE", 5) == 0 &&
             allowed(zmq_msg_data(&f[6]), zmq_msg_size(&f[6]));
    const void *bufs[6] = {
        "1.0", zmq_msg_data(&f[1]), ok ? "200" : "400", ok ? "OK" : "key not allowed", "", ""};
    size_t lens[6] = {3, zmq_msg_size(&f[1]), 3, ok ? 2 : 15, 0, 0};
    if (!ok) {
        /* say who: the address and the client's public key, so an operator can allow it */
        char addr[64] = "", key[Z85_KEY + 1] = "";
        if (n >= 4) {
            size_t an =
                zmq_msg_size(&f[3]) < sizeof addr - 1 ? zmq_msg_size(&f[3]) : sizeof addr - 1;
            memcpy(addr, zmq_msg_data(&f[3]), an);
        }
        if (n >= 7 && zmq_msg_size(&f[6]) == 32)
            zmq_z85_encode(key, zmq_msg_data(&f[6]), 32);
        NW_WARN(NULL, "curve: refused a client not in --curve-allow address=\"%s\" key=\"%s\"",
                addr, key);
        nw_metrics_add(nw_metrics_counter("nw_curve_refused_total", NULL,
                                          "ZeroMQ clients refused: key not in --curve-allow."),
                       1);
    }
    if (nw_zsock_sendv(zs, bufs, lens, 6) < 0)
        NW_WARN(NULL, "curve: cannot answer a ZAP request");
}

int
nw_curve_zap_start(uv_loop_t *loop, void *zctx, nw_zsock_t **out)
{
    *out = NULL;
    if (!curve.on || !curve.have_allow) {
        if (curve.on)
            NW_WARN(NULL, "curve: no --curve-allow: any client holding our public key may connect");
        return 0;
    }
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
    NW_INFO(NULL, "curve: %zu client keys allowed", curve.n_allowed);
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
             "# trust it list it: --curve-server (for a broker) or --curve-allow (for a client).\n"
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
