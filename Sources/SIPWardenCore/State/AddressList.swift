/// A few addresses (the protected host's own) in sorted order, for a membership test on every packet
/// that compares addresses directly instead of hashing the packet's source as a `Set` lookup does.
struct AddressList {
    private let sorted: [IPAddress]

    init(_ addresses: Set<IPAddress>) {
        sorted = addresses.sorted()
    }

    var isEmpty: Bool { sorted.isEmpty }

    /// Whether `address` is one of the list's (a binary search).
    @inline(__always)
    func contains(_ address: IPAddress) -> Bool {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) >> 1
            let candidate = sorted[middle]
            if candidate == address { return true }
            if candidate < address { low = middle + 1 } else { high = middle }
        }
        return false
    }
}

extension AddressList: Sendable {}
