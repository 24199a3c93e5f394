/// A range of byte offsets into the buffer a message or packet was read from.
///
/// Classification results hold ranges, not strings: a `String` is made only when a human reads it.
public struct ByteRange: Hashable, Sendable {
    public var lowerBound: UInt32
    public var upperBound: UInt32

    public init(_ lowerBound: Int, _ upperBound: Int) {
        self.lowerBound = UInt32(truncatingIfNeeded: lowerBound)
        self.upperBound = UInt32(truncatingIfNeeded: upperBound)
    }

    /// The empty range at offset 0, standing for "absent".
    public static let absent = ByteRange(0, 0)

    public var count: Int { Int(upperBound) - Int(lowerBound) }
    public var isEmpty: Bool { upperBound <= lowerBound }
    public var range: Range<Int> { Int(lowerBound)..<max(Int(lowerBound), Int(upperBound)) }
}

extension UnsafeRawBufferPointer {
    /// The bytes of `range` as text, for people (logs, JSON, tables); invalid UTF-8 is repaired.
    public func string(_ range: ByteRange) -> String {
        guard !range.isEmpty, Int(range.upperBound) <= count else { return "" }
        return String(decoding: self[range.range], as: UTF8.self)
    }

    /// Whether the bytes of `range` equal `text` exactly.
    public func bytes(_ range: ByteRange, equal text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount, Int(range.upperBound) <= count else { return false }
        let expected = text.utf8Start
        for i in 0..<range.count where self[Int(range.lowerBound) + i] != expected[i] { return false }
        return true
    }

    /// Whether the bytes of two ranges are equal.
    public func bytes(_ a: ByteRange, equal b: ByteRange) -> Bool {
        guard a.count == b.count, Int(a.upperBound) <= count, Int(b.upperBound) <= count else { return false }
        for i in 0..<a.count where self[Int(a.lowerBound) + i] != self[Int(b.lowerBound) + i] { return false }
        return true
    }

    /// Reads a big-endian 16-bit integer, or nil when the buffer is too short.
    @inline(__always)
    func uint16(at offset: Int) -> UInt16? {
        guard offset >= 0, offset + 2 <= count else { return nil }
        return UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// Reads a big-endian 32-bit integer, or nil when the buffer is too short.
    @inline(__always)
    func uint32(at offset: Int) -> UInt32? {
        guard offset >= 0, offset + 4 <= count else { return nil }
        return UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// Reads a big-endian 64-bit integer, or nil when the buffer is too short.
    @inline(__always)
    func uint64(at offset: Int) -> UInt64? {
        guard offset >= 0, offset + 8 <= count else { return nil }
        return UInt64(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}
