/// A key for `BoundedTable`: equatable, with a well-mixed hash under the table's seed.
protocol TableKey: Equatable {
    func tableHash(seed: UInt64) -> UInt64
}

/// Where the tables' seeds come from: the daemon draws each at random; a replay fixes them, so that the
/// same capture gives the same verdicts on every run, even where full tables push entries out.
public enum TableSeeding: Sendable {
    case random
    case fixed(UInt64)

    /// The seed of the table numbered `table`.
    func seed(_ table: UInt64) -> UInt64 {
        switch self {
        case .random: .random(in: .min ... .max)
        case .fixed(let base): ByteHash.mix(base ^ table)
        }
    }
}

/// A fixed-capacity hash table: no allocation after creation, O(1) lookup over a short probe window.
///
/// When the window a new key hashes to is full, the entry with the lowest `retention` gives way;
/// entries whose retention is `Int64.max` (authenticated sources) are never pushed out, and a new key
/// that finds only such entries is not stored at all.
///
/// Keys are often chosen by an attacker (spoofed sources, user names, nonces), so each table hashes
/// them under a seed of its own, random in the daemon: nobody outside can compute which keys share a
/// window and flood one with crafted keys to push out an entry.
struct BoundedTable<Key: TableKey, Value> {
    /// The key in each slot, nil where the slot is free: occupancy needs no array (and no cache line) of
    /// its own. An address key holds nil in its spare bits at no cost; a 64-bit hash key (users, nonces)
    /// takes 16 bytes a slot instead of 9.
    private var keys: [Key?]
    var values: [Value]
    let mask: Int
    let seed: UInt64
    private(set) var count = 0
    private(set) var evictions = 0
    private(set) var refusals = 0

    /// Slots probed per key: a small constant, so lookups stay O(1) however full the table is.
    static var window: Int { 8 }

    /// A table of `capacity` slots (rounded up to a power of two, at least the probe window).
    init(capacity: Int, emptyValue: Value, seed: UInt64) {
        let size = Self.slots(for: capacity)
        keys = [Key?](hugePagesRepeating: nil, count: size)
        values = [Value](hugePagesRepeating: emptyValue, count: size)
        mask = size - 1
        self.seed = seed
    }

    var capacity: Int { keys.count }

    /// The slots a table of `capacity` has: a power of two, at least the probe window.
    static func slots(for capacity: Int) -> Int { capacity.roundedUpToPowerOfTwo(atLeast: window) }

    /// The memory a table of `capacity` slots takes (its keys and values).
    static func bytes(capacity: Int) -> Int {
        slots(for: capacity) * (MemoryLayout<Key?>.stride + MemoryLayout<Value>.stride)
    }

    /// The slot holding `key`, or nil. Entries are only ever added or replaced, never removed, so a key
    /// lies before the first free slot of its window: the search stops there.
    @inline(__always)
    func find(_ key: Key) -> Int? {
        let start = Int(truncatingIfNeeded: key.tableHash(seed: seed)) & mask
        for step in 0..<Self.window {
            let slot = (start + step) & mask
            guard let stored = keys[slot] else { return nil }
            if stored == key { return slot }
        }
        return nil
    }

    /// The slot for `key`, inserting `value` if it is new: in the first free slot of its window, else in
    /// place of the entry with the lowest retention; nil when every slot of the window is protected.
    @inline(__always)
    mutating func findOrInsert(_ key: Key, _ value: @autoclosure () -> Value, retention: (Value) -> Int64) -> Int? {
        let start = Int(truncatingIfNeeded: key.tableHash(seed: seed)) & mask
        for step in 0..<Self.window {
            let slot = (start + step) & mask
            guard let stored = keys[slot] else {
                count += 1
                keys[slot] = key
                values[slot] = value()
                return slot
            }
            if stored == key { return slot }
        }
        return evict(for: key, value(), from: start, retention: retention)
    }

    /// Stores `key` in place of the entry with the lowest retention in the full window at `start`; nil
    /// when every entry there is protected.
    mutating func evict(for key: Key, _ value: Value, from start: Int, retention: (Value) -> Int64) -> Int? {
        var victim = -1
        var victimRetention = Int64.max
        for step in 0..<Self.window {
            let slot = (start + step) & mask
            let kept = retention(values[slot])
            if kept < victimRetention {
                victim = slot
                victimRetention = kept
            }
        }
        guard victim >= 0 else {
            refusals += 1
            return nil
        }
        evictions += 1
        keys[victim] = key
        values[victim] = value
        return victim
    }

    /// The slots holding an entry and their keys, for walks over the whole table (not for the hot path).
    var storedKeys: [(slot: Int, key: Key)] { keys.indices.compactMap { slot in keys[slot].map { (slot, $0) } } }

    /// Every stored entry, for snapshots (not for the hot path).
    var entries: [(key: Key, value: Value)] { storedKeys.map { ($0.key, values[$0.slot]) } }
}

extension Int {
    /// The smallest power of two that is at least this and at least `minimum` (a power of two).
    func roundedUpToPowerOfTwo(atLeast minimum: Int) -> Int {
        var size = minimum
        while size < self { size <<= 1 }
        return size
    }
}

extension IPAddress: TableKey {
    @inline(__always)
    func tableHash(seed: UInt64) -> UInt64 {
        ByteHash.mix(high &* 0x9E37_79B9_7F4A_7C15 ^ low ^ UInt64(family.rawValue) << 56 ^ seed)
    }

    /// The address in 64 well-mixed bits, the same in every table and process: a compact identity for
    /// a source (which source used a nonce, which sources failed against a user).
    var tableHash: UInt64 { tableHash(seed: 0) }
}

/// Fast 64-bit hashing of byte ranges and words (not cryptographic: tables mix their own random seed
/// into where a key goes, and a table window that fills evicts by retention, never by hash order).
enum ByteHash {
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Hashes the bytes of `range` eight at a time; an empty range hashes to 0.
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer, _ range: ByteRange, seed: UInt64 = 0) -> UInt64 {
        guard !range.isEmpty, Int(range.upperBound) <= bytes.count else { return 0 }
        // Offsets are within the buffer (checked above), so the arithmetic below cannot overflow.
        var k = Int(range.lowerBound)
        let end = Int(range.upperBound)
        // A seed is mixed first: XOR-ed as it is, it would cancel a difference in the first bytes (a
        // nonce "x0" under seed 0 and a cnonce "z0" under seed 2 would hash alike).
        var h = (seed == 0 ? 0 : mix(seed)) ^ UInt64(truncatingIfNeeded: end &- k) &* 0xFF51_AFD7_ED55_8CCD
        while k &+ 8 <= end {
            h = mix(h ^ bytes.loadUnaligned(fromByteOffset: k, as: UInt64.self))
            k &+= 8
        }
        return mix(h ^ tail(bytes, from: k, to: end)) | 1
    }

    /// The last `end - start` (< 8) bytes as a little-endian word: one load of the eight bytes that end
    /// at `end` when the buffer has them, else byte by byte.
    @inline(__always)
    static func tail(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> UInt64 {
        let count = end &- start
        guard count > 0 else { return 0 }
        if end >= 8 {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: end &- 8, as: UInt64.self))
            return word &>> (64 &- 8 &* UInt64(truncatingIfNeeded: count))
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        for k in start..<end {
            tail |= UInt64(bytes[k]) << shift
            shift += 8
        }
        return tail
    }
}

extension BoundedTable: Sendable where Key: Sendable, Value: Sendable {}
