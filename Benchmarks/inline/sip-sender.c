// SPDX-License-Identifier: GPL-2.0-or-later
// The inline benchmark's load: SIP INVITEs (about 700 bytes, each with its own Call-ID) over UDP to
// DEST:5060 (each source always calling the same number, as a busy trunk would) from SOURCES addresses 127.0.0.2, 127.0.0.3, … (loopback inside a private network
// namespace), COUNT packets in all at RATE per second (0: as fast as sendmmsg goes), and never longer
// than SECONDS, in bursts of BURST packets from one source (default 32, at most 32; 1 sends each packet
// on its own, each from the next source). Prints the packets sent.
//
// Usage: sip-sender DEST COUNT RATE SECONDS SOURCES [BURST]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { MAX_BURST = 32, MAX_SOURCES = 250, MESSAGE_MAX = 1200 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s DEST COUNT RATE SECONDS SOURCES [BURST]\n", argv[0]);
        return 2;
    }
    const char *destination = argv[1];
    long count = atol(argv[2]);
    double rate = atof(argv[3]);
    double seconds = atof(argv[4]);
    int sources = atoi(argv[5]);
    if (sources < 1 || sources > MAX_SOURCES) sources = 1;
    int burstLength = argc > 6 ? atoi(argv[6]) : MAX_BURST;
    if (burstLength < 1 || burstLength > MAX_BURST) burstLength = MAX_BURST;

    int sockets[MAX_SOURCES];
    for (int s = 0; s < sources; s++) {
        sockets[s] = socket(AF_INET, SOCK_DGRAM, 0);
        // An ephemeral source port: 200 sockets bound to :5060 would make the kernel's UDP lookup the cost.
        struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = 0};
        char address[32];
        snprintf(address, sizeof address, "127.0.0.%d", s + 2);
        inet_pton(AF_INET, address, &local.sin_addr);
        if (bind(sockets[s], (struct sockaddr *)&local, sizeof local) < 0) {
            perror("bind");
            return 1;
        }
    }
    struct sockaddr_in remote = {.sin_family = AF_INET, .sin_port = htons(5060)};
    inet_pton(AF_INET, destination, &remote.sin_addr);

    static char payloads[MAX_BURST][MESSAGE_MAX];
    struct mmsghdr messages[MAX_BURST];
    struct iovec vectors[MAX_BURST];
    long sent = 0;
    double start = now();
    while (sent < count && now() - start < seconds) {
        int source = (int)((sent / burstLength) % sources);
        int burst = 0;
        for (; burst < burstLength && sent + burst < count; burst++) {
            long n = sent + burst;
            int length = snprintf(
                payloads[burst], MESSAGE_MAX,
                "INVITE sip:%d@pbx.example.com SIP/2.0\r\n"
                "Via: SIP/2.0/UDP 127.0.0.%d:5060;branch=z9hG4bK%ld;rport\r\n"
                "Max-Forwards: 70\r\n"
                "From: \"Phone %d\" <sip:%d@pbx.example.com>;tag=%ld\r\n"
                "To: <sip:%d@pbx.example.com>\r\n"
                "Call-ID: bench-%ld@127.0.0.%d\r\n"
                "CSeq: 1 INVITE\r\n"
                "Contact: <sip:%d@127.0.0.%d:5060>\r\n"
                "User-Agent: Yealink SIP-T46U 108.86.0.45\r\n"
                "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n"
                "Content-Type: application/sdp\r\n"
                "Content-Length: 141\r\n\r\n"
                "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                "m=audio 20000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n",
                200 + source, source + 2, n, source, 100 + source, n, 200 + source, n, source + 2, 100 + source,
                source + 2);
            vectors[burst].iov_base = payloads[burst];
            vectors[burst].iov_len = (size_t)length;
            memset(&messages[burst], 0, sizeof messages[burst]);
            messages[burst].msg_hdr.msg_name = &remote;
            messages[burst].msg_hdr.msg_namelen = sizeof remote;
            messages[burst].msg_hdr.msg_iov = &vectors[burst];
            messages[burst].msg_hdr.msg_iovlen = 1;
        }
        int done = sendmmsg(sockets[source], messages, (unsigned)burst, 0);
        if (done > 0) sent += done;
        if (rate > 0) {
            double due = start + (double)sent / rate;
            double wait = due - now();
            if (wait > 0) usleep((useconds_t)(wait * 1e6));
        }
    }
    printf("%ld\n", sent);
    return 0;
}
