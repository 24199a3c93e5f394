/// Captured frames held in memory: all bytes in one array, with each frame's offset and timestamp,
/// so that a benchmark walks them without touching the file system or allocating.
public struct CaptureBuffer: Sendable {
    /// Every frame's bytes, back to back.
    public private(set) var bytes: [UInt8] = []
    /// Where frame `i` starts; frame `i` ends where frame `i + 1` starts (the last entry is `bytes.count`).
    public private(set) var offsets: [Int] = [0]
    /// Each frame's timestamp in nanoseconds since the epoch.
    public private(set) var timestamps: [Int64] = []

    public init() {}

    /// Generates `packets` frames of mixed SIP traffic (see `TrafficGenerator`).
    public init(packets: Int, seed: UInt64, withAttacks: Bool = false) {
        var generator = TrafficGenerator(seed: seed, withAttacks: withAttacks)
        bytes.reserveCapacity(packets * 700)
        offsets.reserveCapacity(packets + 1)
        timestamps.reserveCapacity(packets)
        for _ in 0..<packets {
            let (timestamp, frame) = generator.next()
            append(frame: frame, timestamp: timestamp)
        }
    }

    public var count: Int { timestamps.count }

    public mutating func append(frame: [UInt8], timestamp: Int64) {
        bytes += frame
        offsets.append(bytes.count)
        timestamps.append(timestamp)
    }

    /// Calls `body` with each frame's timestamp and bytes, in order. The bytes are valid only during the call.
    @inlinable
    public func forEachFrame(_ body: (Int64, UnsafeRawBufferPointer) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { all in
            try offsets.withUnsafeBufferPointer { offsets in
                try timestamps.withUnsafeBufferPointer { timestamps in
                    for index in 0..<timestamps.count {
                        try body(timestamps[index], UnsafeRawBufferPointer(rebasing: all[offsets[index]..<offsets[index + 1]]))
                    }
                }
            }
        }
    }
}
