import CNetfilterQueue

/// The verdicts for one received batch, coalesced into as few netlink messages as the kernel allows.
///
/// A batch verdict (NFQNL_MSG_VERDICT_BATCH) gives one verdict to every queued packet up to an id, so it
/// cannot mix accept and drop, nor carry a per-packet mark. The plain verdict most packets of the batch
/// got (accept, or drop under a flood) therefore goes as one batch verdict, sent last; every other
/// packet (the minority, and bans with their mark) gets its own verdict before it, in the same send.
/// Storage is allocated once; filling and sending a batch allocates nothing.
struct VerdictBatch {
    /// One packet's verdict; `mark` 0 means the packet's mark is left alone.
    struct Entry {
        var id: UInt32
        var kernelVerdict: Int32
        var mark: UInt32
    }

    private(set) var entries: [Entry]
    private(set) var count = 0

    init(capacity: Int) {
        entries = [Entry](repeating: Entry(id: 0, kernelVerdict: 0, mark: 0), count: max(capacity, 1))
    }

    var isEmpty: Bool { count == 0 }

    /// Adds a packet's verdict; at most `capacity` per batch (the receive batch size).
    @inline(__always)
    mutating func add(id: UInt32, verdict: Int32, mark: UInt32 = 0) {
        entries[count] = Entry(id: id, kernelVerdict: verdict, mark: mark)
        count += 1
    }

    mutating func reset() { count = 0 }

    /// The verdict that goes as one batch verdict, and the id of the last packet it covers; nil when no
    /// plain verdict is shared by two packets (then each gets its own). Packet ids grow in receive order
    /// and wrap at 2^32; the kernel compares them the same way, so the last covered id is the one received
    /// last, not the largest number.
    var coalesced: (id: UInt32, verdict: Int32)? {
        var accepts = 0
        var drops = 0
        var lastAccept: UInt32 = 0
        var lastDrop: UInt32 = 0
        for index in 0..<count where entries[index].mark == 0 {
            let entry = entries[index]
            if entry.kernelVerdict == Int32(CNFQ_ACCEPT) {
                accepts += 1
                lastAccept = entry.id
            } else if entry.kernelVerdict == Int32(CNFQ_DROP) {
                drops += 1
                lastDrop = entry.id
            }
        }
        if max(accepts, drops) < 2 { return nil }
        return accepts >= drops ? (lastAccept, Int32(CNFQ_ACCEPT)) : (lastDrop, Int32(CNFQ_DROP))
    }

    /// Whether `entry` is covered by the batch verdict `coalesced` instead of its own message.
    @inline(__always)
    static func isCovered(_ entry: Entry, by coalesced: (id: UInt32, verdict: Int32)?) -> Bool {
        guard let coalesced else { return false }
        return entry.mark == 0 && entry.kernelVerdict == coalesced.verdict
    }
}
