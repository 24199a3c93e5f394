#ifndef COSIP_PEER_H
#define COSIP_PEER_H

#include <stddef.h>

// libosip2's parser is the peer the SIPWarden classifier is measured against; this shim hands Swift
// two prefixed calls so that osip's own headers and structs stay out of the Swift module.

/// Initialises libosip2's parser tables; call once before `cosip_parse`. The corresponding C function
/// is `parser_init`. Returns 0 on success.
int cosip_setup(void);

/// Parses one SIP message the way an osip-based stack does on receipt: `osip_message_init`,
/// `osip_message_parse`, `osip_message_free`. Returns 0 when libosip2 accepted the message.
int cosip_parse(const void *bytes, size_t length);

#endif
