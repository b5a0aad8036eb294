/* An example agent in C (C99 and POSIX sockets only) that asks omegad for decisions over its frame protocol
 * (docs/omegad.md): an allowed call, a denied call, a rate limit, taint, and an approval granted through the socket.
 * Usage: client SOCKET [TAG]   (TAG prefixes the session ids, so several runs do not share sessions) */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { DECIDE = 0x01, GRANT = 0x02, WAIT = 0x04, PING = 0x07, REPLY = 0x80, ERROR_REPLY = 0xFF };
#define MAX_REPLY (1u << 20)

static int fd = -1;

static void die(const char* what) {
    fprintf(stderr, "client: %s\n", what);
    exit(1);
}

static void write_all(const unsigned char* p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) die("write failed");
        p += w;
        n -= (size_t)w;
    }
}

static void read_all(unsigned char* p, size_t n) {
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0) die("the server closed the connection");
        p += r;
        n -= (size_t)r;
    }
}

/* Sends one frame (4-byte big-endian length, type byte, body) and reads the reply frame. Returns the reply's body
 * (NUL-terminated, to free) and stores its type. */
static char* call(int type, const char* body, int* reply_type) {
    size_t len = strlen(body) + 1;
    unsigned char header[5];
    uint32_t n;
    char* reply;
    header[0] = (unsigned char)(len >> 24);
    header[1] = (unsigned char)(len >> 16);
    header[2] = (unsigned char)(len >> 8);
    header[3] = (unsigned char)len;
    header[4] = (unsigned char)type;
    write_all(header, 5);
    write_all((const unsigned char*)body, len - 1);

    read_all(header, 5);
    n = ((uint32_t)header[0] << 24) | ((uint32_t)header[1] << 16) | ((uint32_t)header[2] << 8) | header[3];
    if (n == 0 || n > MAX_REPLY) die("a malformed reply frame");
    reply = malloc(n);
    if (reply == NULL) die("out of memory");
    read_all((unsigned char*)reply, n - 1);
    reply[n - 1] = '\0';
    *reply_type = header[4];
    return reply;
}

/* The string value of a top-level member of a reply: enough for the flat members read here ("decision", "reason",
 * "pending", "state"), whose keys cannot appear unescaped inside another string. */
static void member(const char* json, const char* key, char* out, size_t size) {
    char pattern[64];
    const char* p;
    size_t i = 0;
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    out[0] = '\0';
    p = strstr(json, pattern);
    if (p == NULL) return;
    for (p += strlen(pattern); *p != '\0' && *p != '"' && i + 1 < size; ++p) {
        if (*p == '\\' && p[1] != '\0') ++p;
        out[i++] = *p;
    }
    out[i] = '\0';
}

/* Decides one request and prints "LABEL: TOOL -> DECISION (REASON)"; returns the decision. */
static const char* decide(const char* label, const char* tool, const char* request, char* pending, size_t size) {
    static char decision[32];
    char reason[512];
    int type;
    char* reply = call(DECIDE, request, &type);
    if (type == ERROR_REPLY) {
        fprintf(stderr, "client: error reply: %s\n", reply);
        exit(1);
    }
    member(reply, "decision", decision, sizeof decision);
    member(reply, "reason", reason, sizeof reason);
    if (pending != NULL) member(reply, "pending", pending, size);
    printf("%s: %s -> %s (%s)\n", label, tool, decision, reason);
    free(reply);
    return decision;
}

int main(int argc, char** argv) {
    struct sockaddr_un addr;
    const char* tag = argc > 2 ? argv[2] : "c";
    char request[1024], pending[32], state[32], body[256];
    int type, i;
    char* reply;

    if (argc < 2) die("usage: client SOCKET [TAG]");
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(argv[1]) >= sizeof addr.sun_path) die("the socket path is too long");
    strcpy(addr.sun_path, argv[1]);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0) die("cannot connect to omegad");

    reply = call(PING, "", &type);
    if (type != (PING | REPLY)) die(reply);
    printf("ping: %s\n", reply);
    free(reply);

    snprintf(request, sizeof request,
             "{\"action\":\"tool\",\"target\":\"docs.search\",\"agent\":\"helper\","
             "\"args\":{\"query\":\"opening hours\"},\"session\":{\"id\":\"%s-1\"}}",
             tag);
    decide("allowed call", "docs.search", request, NULL, 0);

    decide("denied call", "mail.send",
           "{\"action\":\"tool\",\"target\":\"mail.send\",\"agent\":\"helper\","
           "\"args\":{\"to\":\"someone@example.com\",\"body\":\"hello\"}}",
           NULL, 0);

    /* Three lookups a minute per session: the fourth is refused. Each one taints the session as Secret. */
    for (i = 1; i <= 4; ++i) {
        char label[32];
        snprintf(label, sizeof label, "rate limit %d", i);
        snprintf(request, sizeof request,
                 "{\"action\":\"tool\",\"target\":\"crm.lookup\",\"agent\":\"helper\","
                 "\"args\":{\"customer\":\"c-%d\"},\"session\":{\"id\":\"%s-1\"}}",
                 i, tag);
        decide(label, "crm.lookup", request, NULL, 0);
    }

    /* The same search as the first one, now in a session that has read customer records. */
    snprintf(request, sizeof request,
             "{\"action\":\"tool\",\"target\":\"docs.search\",\"agent\":\"helper\","
             "\"args\":{\"query\":\"opening hours\"},\"session\":{\"id\":\"%s-1\"}}",
             tag);
    decide("taint", "docs.search", request, NULL, 0);

    /* A refund waits for the lead; the lead grants it through the socket; the agent waits for the answer. */
    snprintf(request, sizeof request,
             "{\"action\":\"tool\",\"target\":\"pay.refund\",\"agent\":\"helper\","
             "\"args\":{\"amount\":120},\"session\":{\"id\":\"%s-2\"}}",
             tag);
    decide("approval", "pay.refund", request, pending, sizeof pending);
    if (pending[0] == '\0') die("the refund did not wait for an approval");

    snprintf(body, sizeof body, "{\"id\":\"%s\",\"role\":\"lead\"}", pending);
    reply = call(GRANT, body, &type);
    if (type != (GRANT | REPLY)) die(reply);
    member(reply, "state", state, sizeof state);
    printf("approval: grant lead -> %s\n", state);
    free(reply);

    snprintf(body, sizeof body, "{\"id\":\"%s\",\"timeout_ms\":1000}", pending);
    reply = call(WAIT, body, &type);
    if (type != (WAIT | REPLY)) die(reply);
    member(reply, "state", state, sizeof state);
    printf("approval: wait -> %s\n", state);
    free(reply);

    close(fd);
    return 0;
}
