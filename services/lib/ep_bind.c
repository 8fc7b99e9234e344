/* ep_bind.c: the address a broker binds, from the endpoint the clients connect to (stage.h).
 *
 * ZeroMQ binds tcp://HOST:PORT only when HOST is an address, "*" or an interface name; it does
 * not look names up when binding. Clients do, so one shared setting `broker =
 * tcp://news1.internal:5550` works for them but not for the broker that should bind it. The
 * broker resolves such a name itself, the same way a client connecting to it would
 * (getaddrinfo), and binds the IPv4 address it finds, which is the one the clients reach. */
#include "newswire/stage.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int
nw_ep_bindable(const char *ep, char *out, size_t n, char *err, size_t errlen)
{
    const char *host, *colon;
    char name[NW_EP_MAX];
    unsigned char addr[16];
    int k = snprintf(out, n, "%s", ep ? ep : "");
    if (k < 0 || (size_t)k >= n)
        return -EINVAL;
    if (ep == NULL || strncmp(ep, "tcp://", 6) != 0)
        return 0; /* ipc:// and inproc:// name no host */
    host = ep + 6;
    colon = strrchr(host, ':');
    if (colon == NULL || host[0] == '[' || (size_t)(colon - host) >= sizeof name)
        return 0; /* no port (zmq says so), or a bracketed IPv6 address */
    memcpy(name, host, (size_t)(colon - host));
    name[colon - host] = 0;
    if (strcmp(name, "*") == 0 || inet_pton(AF_INET, name, addr) == 1 || if_nametoindex(name) > 0)
        return 0;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(err, errlen, "cannot resolve \"%s\" to an address to bind: %s", name,
                 rc ? gai_strerror(rc) : "no IPv4 address");
        return -EINVAL;
    }
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, ip, sizeof ip);
    freeaddrinfo(res);
    k = snprintf(out, n, "tcp://%s%s", ip, colon);
    return k < 0 || (size_t)k >= n ? -EINVAL : 0;
}
