/// Requests that their source's entry could not keep until their answers came (`RecentRequests.remember`),
/// each under `Engine.lostRequestKey` of its source, Call-ID and CSeq, first in, first out.
///
/// A request waits here for its answer only, milliseconds, so the oldest is the one to give way, and the
/// order they came in says which that is without reading them. The requests lie in a ring in that
/// order; an index of buckets of eight finds them: each index entry holds a request's place in the ring
/// (a sequence number) and a tag from its key's hash, a bucket to a cache line. Keeping one writes its
/// bucket and the ring's next place (beside the last one written, at times across two lines); finding
/// one reads its bucket and, for a tag that matches, that place. An unanswered flood keeps a request for every packet it sends, and the table
/// that was here before compared eight stored requests for the oldest: ten cold cache lines a packet.
struct LostRequests {
    struct Entry {
        var key: UInt64 = 0
        var memo = RequestMemo()
    }

    /// The requests kept, request number `n` at `n & ringMask`.
    private var ring: [Entry]
    /// Eight entries a bucket, tag << 32 | sequence number each; stale once the ring has gone round past
    /// it. The buckets start at `indexStart`, where the array's memory is aligned to a cache line.
    private var index: [UInt64]
    private let indexStart: Int
    private let ringMask: Int
    private let bucketMask: Int
    let seed: UInt64
    /// The number the next request kept gets. It starts more than a ring's length on, so that the
    /// index's zeros read as stale; wrapping after 2^32 requests, an entry that old may look fresh again, and
    /// the key stored with the request tells it apart.
    private var sequence: UInt32

    static let bucketSize = 8

    /// A ring of `capacity` requests (rounded up to a power of two, at least a bucket), and two index
    /// entries per place in it.
    init(capacity: Int, seed: UInt64) {
        let places = Self.places(for: capacity)
        ring = [Entry](hugePagesRepeating: Entry(), count: places)
        index = [UInt64](hugePagesRepeating: 0, count: 2 * places + Self.bucketSize)
        indexStart = index.withUnsafeBufferPointer { (64 - Int(bitPattern: $0.baseAddress) & 63) & 63 } / 8
        ringMask = places - 1
        bucketMask = 2 * places / Self.bucketSize - 1
        self.seed = seed
        sequence = UInt32(truncatingIfNeeded: places + 1)
    }

    /// The places a ring of `capacity` has: a power of two, at least a bucket's worth.
    static func places(for capacity: Int) -> Int { capacity.roundedUpToPowerOfTwo(atLeast: bucketSize) }

    /// The memory a table of `capacity` requests takes.
    static func bytes(capacity: Int) -> Int {
        let places = Self.places(for: capacity)
        return places * (MemoryLayout<Entry>.stride + 2 * MemoryLayout<UInt64>.stride)
            + bucketSize * MemoryLayout<UInt64>.stride
    }

    /// Keeps `memo` under `key`, in place of the oldest request when the ring is full, and of an older
    /// request kept under the same key.
    mutating func keep(_ memo: RequestMemo, key: UInt64) {
        let (bucket, tag) = place(of: key)
        let number = sequence
        sequence &+= 1
        ring[Int(number) & ringMask] = Entry(key: key, memo: memo)
        // In the bucket: the same key's entry, else a stale one, else the oldest. Its slots are reached by
        // a wrapping addition to its first (`place` keeps them within the index), here and in `answer`: a
        // range of them had its bounds and each addition checked on every keep.
        var chosen = bucket
        var oldest = 0
        for step in 0..<Self.bucketSize {
            let slot = bucket &+ step
            let (age, position, stored) = entry(slot, before: number)
            if age < ring.count, stored == tag, ring[position].key == key {
                chosen = slot
                break
            }
            if age > oldest {
                oldest = age
                chosen = slot
            }
        }
        index[chosen] = UInt64(tag) << 32 | UInt64(number)
    }

    /// The request kept under `key` and not answered yet, now marked answered (an answer the server
    /// sends again counts once); nil when there is none, or it has given way.
    mutating func answer(_ key: UInt64) -> RequestMemo? {
        let (bucket, tag) = place(of: key)
        for step in 0..<Self.bucketSize {
            let slot = bucket &+ step
            let (age, position, stored) = entry(slot, before: sequence)
            guard stored == tag, age <= ring.count, ring[position].key == key else { continue }
            guard !ring[position].memo.answered else { return nil }
            ring[position].memo.answered = true
            return ring[position].memo
        }
        return nil
    }

    /// The index entry `slot`: how many requests before number `next` it points at (more than the ring
    /// holds: stale), that request's place in the ring, and its tag.
    @inline(__always)
    private func entry(_ slot: Int, before next: UInt32) -> (age: Int, position: Int, tag: UInt32) {
        let number = UInt32(truncatingIfNeeded: index[slot])
        return (Int(next &- number), Int(number) & ringMask, UInt32(truncatingIfNeeded: index[slot] >> 32))
    }

    /// The first index entry of `key`'s bucket, and its tag.
    @inline(__always)
    func place(of key: UInt64) -> (bucket: Int, tag: UInt32) {
        let hash = ByteHash.mix(key ^ seed)
        let bucket = indexStart + (Int(truncatingIfNeeded: hash) & bucketMask) * Self.bucketSize
        return (bucket, UInt32(truncatingIfNeeded: hash >> 32))
    }
}
