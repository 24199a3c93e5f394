/// One UDP datagram of a scenario, not yet framed.
struct Datagram {
    var source: Endpoint
    var destination: Endpoint
    var payload: [UInt8]
}

/// A short exchange (a registration, a call, a ping, an attack) whose datagrams go out in order,
/// interleaved with other scenarios by the generator.
struct Scenario {
    var datagrams: [Datagram]
    var position = 0

    init(_ datagrams: [Datagram]) {
        self.datagrams = datagrams
    }

    var isFinished: Bool { position >= datagrams.count }

    mutating func next() -> Datagram {
        defer { position += 1 }
        return datagrams[position]
    }
}
