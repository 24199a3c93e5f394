/// A small deterministic generator (SplitMix64), so that a sweep of random values is repeatable and a
/// failure can be replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SplitMix64 {
    /// A number below `bound`.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// One random change to non-empty `bytes`, for robustness tests: a byte set at random or to one of
    /// `interesting`, up to `span` bytes cut, up to `2 × span` repeated in place, or what `otherwise`
    /// does at a place.
    mutating func mutate(
        _ bytes: inout [UInt8], interesting: [UInt8], span: Int,
        otherwise: (inout [UInt8], Int, inout SplitMix64) -> Void
    ) {
        let at = below(bytes.count)
        switch next() % 5 {
        case 0: bytes[at] = UInt8(truncatingIfNeeded: next())
        case 1: bytes[at] = interesting[below(interesting.count)]
        case 2: bytes.removeSubrange(at..<min(bytes.count, at + below(span)))
        case 3: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + below(2 * span))], at: at)
        default: otherwise(&bytes, at, &self)
        }
    }
}
