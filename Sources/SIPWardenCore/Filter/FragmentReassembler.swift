/// Puts IPv4 and IPv6 fragments back together, as the kernel does before NFQUEUE sees a datagram.
///
/// Bounded: at most `capacity` datagrams wait at once (the oldest is given up first) and a datagram
/// whose fragments stop arriving for `timeout` is given up.
public struct FragmentReassembler {
    struct Key: Hashable {
        var source: IPAddress
        var destination: IPAddress
        var identification: UInt32
        var payloadProtocol: UInt8
    }

    struct Pending {
        var pieces: [(offset: Int, bytes: [UInt8])] = []
        var totalLength: Int?
        var firstSeen: Timestamp
    }

    public var capacity: Int
    public var timeout: Int64
    var pending: [Key: Pending] = [:]

    public init(capacity: Int = 1024, timeoutSeconds: Int64 = 30) {
        self.capacity = capacity
        self.timeout = timeoutSeconds * 1_000_000_000
    }

    /// Adds one fragment; returns the whole datagram's payload once every piece is there.
    public mutating func add(
        _ fragment: DecodedPacket.Fragment, of packet: DecodedPacket, bytes: UnsafeRawBufferPointer, at now: Timestamp
    ) -> [UInt8]? {
        let key = Key(
            source: packet.source, destination: packet.destination, identification: fragment.identification,
            payloadProtocol: fragment.payloadProtocol)
        expire(before: now)
        if pending[key] == nil, pending.count >= capacity,
            let oldest = pending.min(by: { $0.value.firstSeen < $1.value.firstSeen })?.key
        {
            pending[key] = nil
            pending.removeValue(forKey: oldest)
        }
        var entry = pending[key] ?? Pending(firstSeen: now)
        entry.pieces.append((fragment.offset, Array(bytes[packet.ipPayload])))
        if !fragment.moreFragments { entry.totalLength = fragment.offset + packet.ipPayload.count }
        guard let total = entry.totalLength, let datagram = Self.assemble(entry.pieces, total: total) else {
            pending[key] = entry
            return nil
        }
        pending[key] = nil
        return datagram
    }

    static func assemble(_ pieces: [(offset: Int, bytes: [UInt8])], total: Int) -> [UInt8]? {
        var datagram = [UInt8](repeating: 0, count: total)
        var covered = 0
        for piece in pieces.sorted(by: { $0.offset < $1.offset }) {
            guard piece.offset <= covered else { return nil }
            let end = min(piece.offset + piece.bytes.count, total)
            if end > covered {
                datagram.replaceSubrange(
                    covered..<end, with: piece.bytes[(covered - piece.offset)..<(end - piece.offset)])
                covered = end
            }
        }
        return covered == total ? datagram : nil
    }

    mutating func expire(before now: Timestamp) {
        guard !pending.isEmpty else { return }
        pending = pending.filter { now.nanoseconds - $0.value.firstSeen.nanoseconds <= timeout }
    }
}
