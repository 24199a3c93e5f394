// Exists so Swift can import libpcap's public header as the module CPcap.
#include <pcap/pcap.h>
