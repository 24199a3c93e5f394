import SIPWardenCore

// The filter's way for one packet, shared by the Engine benchmark and by `scripts/count-instructions`,
// which compiles this file into its driver (Benchmarks/instructions/DecideRepeatedly.swift).

/// The daemon counts messages per queue; these benchmarks leave that out.
struct Uncounted: PacketObserver {
    mutating func observe(_ message: SIPMessage, in payload: UnsafeRawBufferPointer) {}
    mutating func reassembled() {}
}

/// Runs one frame's IP packet through the filter as `sipwarden run` does for each queued packet:
/// decode, classify, decide.
@inline(__always)
func decide(
    _ filter: inout PacketFilter, _ frame: [UInt8], _ direction: Direction, at nanoseconds: Int64
) -> Decision {
    var uncounted = Uncounted()
    return frame.withUnsafeBytes { bytes in
        filter.filter(
            ipPacket: UnsafeRawBufferPointer(rebasing: bytes[14...]), direction: direction,
            at: Timestamp(nanoseconds: nanoseconds), observer: &uncounted
        ).decision
    }
}
