#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Cuts SIP messages out of TCP byte streams (RFC 3261 §18.3: Content-Length frames each message), in
/// the order and from the place the server's TCP reads them.
///
/// A client's stream in enforce mode is *guarded*: its bytes that cannot be placed are dropped, and the
/// client's TCP sends them again, in order. Its entry knows where the server's TCP is (`serverNext`,
/// from the server's SYN-ACK and ACKs, which the filter sees as it sees all of the server's segments)
/// and where the filter is (`nextSequence`, the end of the bytes it let through), and keeps the bytes
/// between them. A segment's bytes
/// - before the server's position pass unread: the server's TCP discards them, whatever they are;
/// - between it and the filter's pass only if they are the bytes let through there (a resend: a TCP
///   resends the same bytes, and segments with a bad checksum never reach the queue); other bytes
///   there cannot be placed;
/// - at the filter's position are framed, with the start of a message that waits for its end;
/// - past it (a gap: the segment overtook another) cannot be placed.
/// A client segment a listener with SYN cookies would take for a new connection's first (`SynCookies`)
/// is not placed anywhere but where a message starts: until the server acknowledges data, while the
/// connection may not exist at the server yet (`Stream.mayBind`; then every segment counts as one
/// while cookies the filter forgot may live), and, for a cookie's life, should the socket be gone. A
/// client's data segment without an ACK is not placed: the server's TCP discards it without a word.
/// Once the connection closes (`Stream.closed`), nothing is. A stream the filter knows nothing of is `lost` inline (`framesLateJoins` false: every segment
/// dropped and the connection reset); replaying, it is framed from its first segment seen, and lost
/// should the server then acknowledge less than that. Evicted entries are remembered where they stood
/// when the server acknowledged data and nothing waited (`forgotten`), else as lost (inline: not at
/// all, unknown being lost). When the server acknowledges bytes the filter never let through (they
/// went past a full queue), the stream is known again from there. Data on a SYN (TCP Fast Open),
/// urgent data (which the server's socket takes out of the stream) and a reset's data are not placed.
///
/// Any other stream (the server's own; a client's in monitor mode) is never dropped, so the filter
/// keeps only the start of a message that waits, and forgets the stream when bytes it cannot place pass.
///
/// A segment that is dropped leaves the entry as it was before it (the server never got its bytes), and
/// its range is kept (`refused`) so that its resends are dropped too. The server's SYN-ACK (a new
/// connection on the same ports), or its first ACK on a connection it opened, starts the entry afresh
/// (`start(handshake:of:at:)`); a client's SYN-ACK moves nothing, and its FIN is placed only right
/// after the bytes let through; a FIN or reset moves no position (the server ignores a client's outside its window, and the firewall's resets on
/// the filter's behalf pass the queue as the server's). At most `capacity`
/// entries holding at most `byteBudget` bytes (past either, the least recently seen eighth goes,
/// entries where nothing waits first); a waiting message of at most `bufferLimit` bytes (a segment that
/// would take it past cannot be placed), at most `waitingPerSource` of them per address, and bytes let
/// through that the server lacks up to `bufferLimit` per entry (those it has, or where it is not
/// known all but `judgedLimit` to twice that, forgotten first; a resend of bytes forgotten before the
/// server had them loses the stream).
public struct TCPStreamFramer {
    struct Flow: Hashable {
        var source: IPAddress
        var destination: IPAddress
        var sourcePort: UInt16
        var destinationPort: UInt16

        var reversed: Flow {
            Flow(source: destination, destination: source, sourcePort: destinationPort, destinationPort: sourcePort)
        }
    }

    struct Stream {
        /// The stream's latest bytes, ending at `nextSequence`: from `waitingFrom` on, the start of a
        /// message whose end has not arrived yet; before it, bytes already judged that the server may not
        /// have yet (a guarded stream's).
        var bytes: [UInt8] = []
        var waitingFrom = 0
        /// How many waiting bytes complete the message when its headers ended (its Content-Length
        /// known); 0 while they have not: then `searched` bytes of it are known to hold no empty line.
        /// Waiting bytes are framed again only when that may complete a message, so a header section
        /// sent a few bytes a segment costs each byte once, not once per segment.
        var needed = 0
        var searched = 0
        /// `needed` for a start line cut short: the waiting bytes are framed again at its line end.
        static let atLineEnd = -1
        var nextSequence: UInt32
        /// Whether bytes that cannot be placed are dropped: then the stream's position is tracked.
        var isGuarded: Bool
        /// The next byte the server's TCP reads, from its latest ACK once it has sent one
        /// (`serverKnown`); until then the first byte the filter framed, before which nothing is placed.
        var serverNext: UInt32
        var serverKnown = false
        /// The byte the server's SYN-ACK acknowledged, when the filter saw it; and whether the client's
        /// ACK of it came.
        var handshake: UInt32?
        var established = false
        /// The connection is closing (a FIN either way, or the client's reset where the server takes
        /// it): the server's listener may make a new one on these ports from a SYN cookie, wherever the
        /// client puts it, so no more bytes are placed until a SYN-ACK starts a new one.
        var closed = false
        /// The server holds bytes the filter did not frame so: nothing more of the stream can be placed.
        var lost = false
        var lastSeen: Timestamp
        /// The sequence range of the last segment dropped on this flow, and why: its retransmissions are
        /// dropped too, since bytes of a stream cannot be judged twice.
        var refused: (from: UInt32, until: UInt32, reason: Decision.Reason)?
        /// What a listener with SYN cookies would take for a new connection's first ACK on these ports.
        var cookies = SynCookies()
        /// Where the last segment with data dropped for a cookie began: dropped again, it loses the stream.
        var cookieDropped: UInt32?

        /// A stream whose next byte is `sequence`, the server's position not known yet.
        init(at sequence: UInt32, guarded: Bool, seen now: Timestamp) {
            nextSequence = sequence
            serverNext = sequence
            isGuarded = guarded
            lastSeen = now
        }

        var isWaiting: Bool { waitingFrom < bytes.count }
        var waitingCount: Int { bytes.count - waitingFrom }
        /// The sequence number of `bytes[0]`.
        var startSequence: UInt32 { nextSequence &- UInt32(truncatingIfNeeded: bytes.count) }

        /// When it was last seen, for eviction; an entry where nothing waits counts as older by
        /// `idleHandicap`, and a connection that has carried no data yet (a SYN flood's) by twice that.
        var evictionAge: Int64 {
            let handicap = isWaiting ? 0 : isHalfOpen ? 2 * TCPStreamFramer.idleHandicap : TCPStreamFramer.idleHandicap
            return lastSeen.nanoseconds - handicap
        }
        /// Its handshake begun, it has carried nothing yet, not even the client's ACK.
        var isHalfOpen: Bool { handshake == nextSequence && bytes.isEmpty && !established }
        /// The server acknowledged bytes past the handshake's first (or, joined otherwise, told where it
        /// is): its connection exists and reads from where the filter does.
        var isConfirmed: Bool {
            guard let first = handshake else { return serverKnown }
            return serverKnown && Self.distance(first, serverNext) > 0
        }

        /// Whether a client segment with ACK at `sequence`, acknowledging `acknowledgment`, may have the
        /// server read from a byte where no message of the filter's starts, while its connection may not
        /// exist yet (until the server acknowledges data): with SYN cookies the server makes it from the
        /// first ACK it takes that carries a valid cookie (`cookies`; any, while `cookiesForgotten`: the
        /// filter forgot cookies of connections that may have used these ports), reading from that ACK's
        /// sequence number, wherever the client put it (even after the filter let through data at the
        /// first byte that the server refused, for a wrong ACK). The handshake's first byte and the end of
        /// the messages framed are where the filter reads too, so a client's bytes sent before the
        /// server's ACK pass there. Other such segments are dropped until the server's ACK comes; the
        /// client's TCP sends them again.
        mutating func mayBind(
            at sequence: UInt32, acknowledging acknowledgment: UInt32, at now: Timestamp, cookiesForgotten: Bool
        ) -> Bool {
            guard let first = handshake, !isConfirmed else { return false }
            if sequence == first {
                established = true
                return false
            }
            guard sequence != nextSequence || isWaiting else { return false }
            return cookiesForgotten || cookies.mayOpen(sequence: sequence, acknowledgment: acknowledgment, at: now)
        }

        /// How far `b` lies after `a` in sequence space (negative: before).
        static func distance(_ a: UInt32, _ b: UInt32) -> Int { Int(Int32(bitPattern: b &- a)) }

        /// Takes in the server's acknowledgment of every byte before `ack`: the bytes it has are no longer
        /// kept, except the start of the message that waits.
        mutating func acknowledge(_ ack: UInt32) {
            guard !lost else { return }
            if Self.distance(nextSequence, ack) > 0 {
                // Bytes the filter never let through reached the server: the stream is known from there.
                let (refused, closed, cookies) = (refused, closed, cookies)
                self = Stream(at: ack, guarded: isGuarded, seen: lastSeen)
                (self.refused, self.closed, self.cookies, serverKnown) = (refused, closed, cookies, true)
                return
            }
            let advance = Self.distance(serverNext, ack)
            if serverKnown {
                guard advance > 0 else { return }
            } else if advance < 0 {
                // It lacks bytes before the first the filter framed, and will read them first.
                lost = true
                return
            }
            (serverNext, serverKnown) = (ack, true)
            if Self.distance(startSequence, ack) >= waitingFrom { forget(waitingFrom) }
        }

        /// Forgets judged bytes, the oldest first, once more than `limit` of them can go (a few segments'
        /// worth moved at a time, not a move per segment): those the server has; those it lacks only
        /// past `unacknowledged` of them (its TCP may have dropped them, a full receive buffer, and the
        /// client will send them again); where the server is not known, all but the last `limit`.
        /// Resends of bytes forgotten before the server has them cannot be placed.
        mutating func forgetJudged(beyond limit: Int, unacknowledged: Int) {
            let acknowledged = Swift.min(Swift.max(Self.distance(startSequence, serverNext), 0), waitingFrom)
            let lacking = serverKnown ? waitingFrom - acknowledged : limit
            let kept = Swift.min(lacking, unacknowledged)
            if waitingFrom - kept > limit { forget(waitingFrom - kept) }
        }

        /// Forgets the first `count` bytes.
        mutating func forget(_ count: Int) {
            guard count > 0 else { return }
            if count == bytes.count {
                bytes.removeAll(keepingCapacity: true)
            } else {
                bytes.removeFirst(count)
            }
            waitingFrom -= count
            // An array grown for a long message is given back (the budget counts what arrays hold), and
            // one of more than a few messages once empty.
            if bytes.isEmpty, bytes.capacity > 2 * TCPStreamFramer.defaultJudgedLimit {
                bytes = []
            } else if bytes.capacity > 4 * Swift.max(bytes.count, TCPStreamFramer.defaultJudgedLimit) {
                var smaller: [UInt8] = []
                smaller.reserveCapacity(2 * Swift.max(bytes.count, TCPStreamFramer.defaultJudgedLimit))
                smaller.append(contentsOf: bytes)
                bytes = smaller
            }
        }

        /// Where `payload`, sent at `sequence`, lies against the kept bytes.
        func placement(of payload: UnsafeRawBufferPointer, at sequence: UInt32) -> Placement {
            let offset = Self.distance(startSequence, sequence)
            guard offset >= 0 else { return .before }
            guard offset <= bytes.count else { return .past }
            let count = min(payload.count, bytes.count - offset)
            guard count > 0, let sent = payload.baseAddress else { return .same(0) }
            let same = bytes.withUnsafeBytes { memcmp($0.baseAddress! + offset, sent, count) == 0 }
            return same ? .same(count) : .different
        }

        /// Whether the waiting bytes, with a segment's just added, may now hold a whole message: as many
        /// bytes as its Content-Length needs, or, before that is known, an empty line ending its headers
        /// in the bytes not searched before, or the line end of a start line that was cut short.
        mutating func mayComplete() -> Bool {
            let count = bytes.count - waitingFrom
            if needed > 0 { return count >= needed }
            defer { searched = count }
            // A start line cut short is framed again at its line end: a request line then, or not SIP.
            if needed == Self.atLineEnd { return bytes[(waitingFrom + min(searched, count))...].contains(ByteClass.lf) }
            // An empty line is LF, an optional CR and LF: it may begin two bytes before the new ones.
            var k = waitingFrom + max(searched - 2, 0)
            while let lf = bytes[k...].firstIndex(of: ByteClass.lf) {
                var next = lf + 1
                if next < bytes.count, bytes[next] == ByteClass.cr { next += 1 }
                if next < bytes.count, bytes[next] == ByteClass.lf { return true }
                k = lf + 1
            }
            return false
        }
    }

    /// What a listener with SYN cookies would take, for two minutes, for a new connection's first ACK
    /// on one client's ports: a segment whose acknowledgment number less its sequence number is that of
    /// a SYN-ACK the server sent on them (its cookie less the client's first sequence number, which is
    /// the same for every SYN of the client in one cookie minute), give or take the 3 of the cookie's
    /// MSS index. Should the server's socket go without a word (an orphan's retries, a user timeout
    /// end it so), the listener makes a new one of such a segment, reading from its first byte. The
    /// last eight SYN-ACKs' are kept (every SYN-ACK counts: the filter cannot tell a cookie); a ninth
    /// while all eight are alive makes any segment one until the one it pushed out would have expired.
    struct SynCookies {
        /// How long a cookie is taken, in whole seconds: the minute it was made in and the next.
        static let lifetime: UInt32 = 128
        var differences = SIMD8<UInt32>()
        /// When each difference is no longer taken, in whole seconds (0: never taken).
        var expiries = SIMD8<UInt32>()
        var anyUntil: UInt32 = 0

        static func seconds(_ now: Timestamp) -> UInt32 { UInt32(clamping: now.nanoseconds / 1_000_000_000) }

        /// When a cookie made at `now` is no longer taken, in whole seconds.
        static func expiry(madeAt now: Timestamp) -> UInt32 { seconds(now) &+ lifetime &+ 1 }

        /// Takes in the server's SYN-ACK with sequence number `sequence`, acknowledging `acknowledgment`:
        /// in the place of the same cookie (within 3: SYNs with other MSS values in the same minute), else
        /// of the one that expires first.
        mutating func record(sequence: UInt32, acknowledgment: UInt32, at now: Timestamp) {
            let (difference, time) = (sequence &+ 1 &- acknowledgment, Self.seconds(now))
            var lane = 0
            for k in 0..<differences.scalarCount {
                if Self.isNear(difference, differences[k]), expiries[k] > 0 {
                    lane = k
                    break
                }
                if expiries[k] < expiries[lane] { lane = k }
            }
            let sameCookie = Self.isNear(difference, differences[lane])
            if !sameCookie, expiries[lane] > time { anyUntil = Swift.max(anyUntil, expiries[lane]) }
            if !sameCookie || expiries[lane] <= time { differences[lane] = difference }
            expiries[lane] = Self.expiry(madeAt: now)
        }

        /// Whether two differences may be cookies of one minute for SYNs with other MSS values: the
        /// MSS index (0 to 3) is added to the cookie's low 24 bits, which may wrap.
        static func isNear(_ a: UInt32, _ b: UInt32) -> Bool { any(near(SIMD8(repeating: a &- b))) }

        /// `isNear` lane by lane, for differences `offsets` between cookies.
        static func near(_ offsets: SIMD8<UInt32>) -> SIMDMask<SIMD8<Int32>> {
            let (six, wrap) = (SIMD8<UInt32>(repeating: 6), SIMD8<UInt32>(repeating: 1 << 24))
            return offsets &+ 3 .<= six .| offsets &- wrap &+ 3 .<= six .| offsets &+ wrap &+ 3 .<= six
        }

        /// Whether a client segment at `sequence` acknowledging `acknowledgment` may open a connection:
        /// `isNear` a live difference, lane by lane.
        func mayOpen(sequence: UInt32, acknowledgment: UInt32, at now: Timestamp) -> Bool {
            let time = Self.seconds(now)
            if time < anyUntil { return true }
            let offsets = SIMD8(repeating: acknowledgment &- sequence) &- differences
            return any(Self.near(offsets) .& expiries .> SIMD8(repeating: time))
        }
    }

    /// Where a segment's bytes lie against an entry's kept bytes.
    enum Placement: Equatable {
        /// They start before them.
        case before
        /// Their first `count` bytes are the same as the kept ones in their place, and any others follow
        /// the kept ones.
        case same(Int)
        /// Some of them differ from the kept ones in their place.
        case different
        /// They start past the kept ones: bytes in between are missing.
        case past
    }

    /// How much older than it is an entry where nothing waits counts for eviction.
    static let idleHandicap: Int64 = 120_000_000_000
    /// How long a message may wait for its end while its address is at `waitingPerSource`: 32 s, a
    /// transaction's whole life (RFC 3261 Timer B and F, 64 × T1), after which no end can make it count.
    static let staleWaiting: Int64 = 32_000_000_000

    public var capacity: Int
    public var bufferLimit: Int
    public var judgedLimit: Int
    public var byteBudget: Int
    public var waitingPerSource: Int
    var classifier: SIPClassifier
    var streams: [Flow: Stream] = [:]
    /// The bytes the entries' arrays hold (their capacity), and how many entries of each address wait.
    var heldBytes = 0
    var waitingBySource: [IPAddress: Int] = [:]
    /// When stale waiting messages were last looked for (at most once a second).
    var lastStaleSweep = Timestamp(nanoseconds: 0)
    /// What is remembered of guarded streams whose entries are gone: lost, or where they stood. At most
    /// `4 × capacity`, each with its place in `forgottenOrder` (a ring, oldest at `nextForgotten` once
    /// full): a stream forgotten twice has a stale place there, which is skipped.
    var forgotten: [Flow: (state: Forgotten, place: Int)] = [:]
    var forgottenOrder: [Flow] = []
    var nextForgotten = 0
    /// Whether a client's stream the filter knows nothing of (no handshake seen, no entry, nothing
    /// remembered) is framed from its first segment seen, as when replaying a capture that begins in
    /// the middle of connections; or, as the daemon does, lost: the server may already hold bytes past
    /// that segment's start (which its TCP would discard and the filter would frame), or lack bytes
    /// before it.
    public var framesLateJoins = true
    /// Connections the server opened from its SIP port whose peer has not answered yet, with the
    /// sequence number of the server's SYN (at most `capacity`).
    var connectingOut: [Flow: UInt32] = [:]
    /// Until when (whole seconds) cookies the filter forgot may still be taken: those of connections
    /// evicted before they carried data, or remembered as lost, or whose memory went. Until then a
    /// connection not yet confirmed may have been made from any of them (`Stream.mayBind`).
    var cookiesForgottenUntil: UInt32 = 0

    enum Forgotten {
        /// Its bytes cannot be placed any more: a message waited (the server holds its start), or it
        /// was lost, or where the server is was not known.
        case lost
        /// Nothing waited: the filter's position and the server's.
        case at(next: UInt32, server: UInt32, cookies: SynCookies)
    }

    /// A queue's connections, each entry a few hundred bytes with its key; a SIP message of up to 64 KiB
    /// may wait for its end; bytes let through are kept until the server has them (it runs on this host:
    /// its ACK comes within milliseconds), up to 64 KiB, or the last 2–4 KiB where the server's position
    /// is not known; all their arrays together hold at most 128 MiB, whatever connections an
    /// attacker opens with messages that never end.
    public static let defaultCapacity = 16384
    public static let defaultBufferLimit = 65536
    public static let defaultJudgedLimit = 2048
    public static let defaultByteBudget = 128 << 20
    public static let defaultWaitingPerSource = 64
    /// At most this much memory per queue: the budget, an array grown past it by one segment's bytes
    /// (a waiting message and bytes the server lacks, each up to `defaultBufferLimit`, its capacity
    /// doubled), the entries themselves (with their keys, about 640 bytes each) and the forgotten
    /// streams remembered (4 per entry, about 264 bytes each: key and state, a place in the ring, the
    /// table's spare room).
    public static var worstCaseBytes: Int {
        defaultByteBudget + 4 * defaultBufferLimit + defaultCapacity * (640 + 4 * 264)
    }

    public init(
        classifier: SIPClassifier, capacity: Int = defaultCapacity, bufferLimit: Int = defaultBufferLimit,
        judgedLimit: Int = defaultJudgedLimit, byteBudget: Int = defaultByteBudget,
        waitingPerSource: Int = defaultWaitingPerSource
    ) {
        self.classifier = classifier
        self.capacity = capacity
        self.bufferLimit = bufferLimit
        self.judgedLimit = judgedLimit
        self.byteBudget = byteBudget
        self.waitingPerSource = waitingPerSource
    }

    /// What one segment gave.
    public struct Framing {
        /// The messages it completed.
        public var messages = 0
        /// It carries bytes that cannot be placed in a message: before or past the filter's position in
        /// the stream, other than the bytes let through in their place, or where no message starts (the
        /// rest of a message whose start the framer never saw, or no SIP at all). They are to be dropped:
        /// the server's TCP would put them together with bytes the filter never judged so, and the
        /// client's TCP sends them again, in order.
        public var unframed = false
        /// Its messages were framed from its own bytes alone, none of them left waiting: sent again, it
        /// can be framed and judged again.
        public var selfContained = false
        /// Its stream is lost (the server holds bytes the filter did not frame so): the segment is to be
        /// dropped and the connection reset.
        public var lost = false
    }

    /// Adds a segment and hands each message it completes, with its classification, to `judge` in
    /// stream order (the bytes are valid during the call only); `judge` answers whether that message has
    /// the segment dropped. `fromServer` says the segment is the server's (its SYN-ACK and ACK tell
    /// where the client's stream is at the server); `guarded` whether the client's stream on this
    /// connection is (bytes that cannot be placed dropped: enforce mode, a SIP port). A dropped segment
    /// leaves the entry as it was before it. Unframed bytes that pass end the entry: the stream is no
    /// longer known.
    public mutating func add(
        _ packet: DecodedPacket, payload: UnsafeRawBufferPointer, at now: Timestamp, fromServer: Bool,
        guarded: Bool, judge: (SIPMessage, UnsafeRawBufferPointer) -> Bool
    ) -> Framing {
        guard let segment = packet.tcp else { return Framing() }
        let flow = Self.flow(of: packet)
        let framing = place(
            segment, of: flow, payload: payload, at: now, fromServer: fromServer, guarded: guarded, judge)
        // The client closes the connection where the server takes it: its FIN right after the bytes
        // placed (its own, if any, placed), or its reset anywhere from the server's position to the
        // filter's (its data never placed). A FIN anywhere else is not placed, unless the server has it
        // (sent again): past the filter's position the server would hold it out of order and report it
        // in a SACK block, whose edge a reset may then hit (Linux takes a reset there), closing the
        // socket where the filter saw no close.
        if guarded, !fromServer, segment.isFin || segment.isReset, let stream = streams[flow] {
            let closes: Bool
            if segment.isFin {
                let end = segment.dataSequence &+ UInt32(truncatingIfNeeded: payload.count)
                closes = end == stream.nextSequence
                let had = stream.serverKnown && Stream.distance(end &+ 1, stream.serverNext) >= 0
                if !closes, !had, !stream.lost {
                    var unplaced = framing
                    unplaced.unframed = true
                    return unplaced
                }
            } else {
                closes =
                    Stream.distance(stream.serverNext, segment.sequence) >= 0
                    && Stream.distance(segment.sequence, stream.nextSequence) >= 0
            }
            if closes { streams[flow]?.closed = true }
        }
        return framing
    }

    /// `add` for `segment` of `flow`.
    mutating func place(
        _ segment: DecodedPacket.TCPSegment, of flow: Flow, payload: UnsafeRawBufferPointer, at now: Timestamp,
        fromServer: Bool, guarded: Bool, _ judge: (SIPMessage, UnsafeRawBufferPointer) -> Bool
    ) -> Framing {
        if fromServer { hear(segment, about: flow.reversed, guarded: guarded, at: now) }
        let dropsUnframed = guarded && !fromServer
        // Urgent data (an urgent pointer, on data or a bare ACK, marks a byte the server's socket
        // takes out of the stream) and data on a SYN (TCP Fast Open) are not read where they lie.
        if dropsUnframed, segment.isUrgent || segment.isSyn && !payload.isEmpty { return Framing(unframed: true) }
        // A reset's data is not read. A connection only remembered is recalled, so that a reset where
        // the server takes it closes it (`add`).
        if dropsUnframed, segment.isReset {
            if streams[flow] == nil, let remembered = recall(flow, at: now) { keep(remembered, for: flow) }
            return Framing()
        }
        // A client's SYN or SYN-ACK moves nothing: the server may drop it (a SYN-ACK to an established
        // socket, one with a TCP-MD5 option), and its own answer says where it reads (`hear`).
        if dropsUnframed, segment.isSyn { return Framing() }
        // Data without an ACK is discarded by the server's TCP, without a reset (RFC 9293 3.10.7.4):
        // framed, it would be bytes the filter judged and the server never read.
        if dropsUnframed, !segment.isAck, !payload.isEmpty { return Framing(unframed: true) }
        guard !payload.isEmpty || dropsUnframed && segment.isAck else { return Framing() }
        guard var stream = take(flow) ?? recall(flow, at: now) else {
            guard !payload.isEmpty else { return Framing() }
            // Inline, where the server is in a stream the filter knows nothing of is not known: its bytes
            // might be framed otherwise there. (Nothing is kept of it: unknown is lost.)
            guard !dropsUnframed || framesLateJoins else { return Framing(unframed: true, lost: true) }
            return start(flow, payload, at: segment.dataSequence, now, guarded: dropsUnframed, judge)
        }
        stream.lastSeen = now
        // A lost stream, or data on a closed connection: reset, so that the client connects again.
        if stream.lost || stream.closed && !payload.isEmpty {
            keep(stream, for: flow)
            return Framing(unframed: true, lost: true)
        }
        let binds =
            dropsUnframed && segment.isAck
            && stream.mayBind(
                at: segment.dataSequence, acknowledging: segment.acknowledgment, at: now,
                cookiesForgotten: SynCookies.seconds(now) < cookiesForgottenUntil)
        if dropsUnframed, segment.isAck, stream.isConfirmed,
            segment.dataSequence != stream.nextSequence || stream.isWaiting,
            stream.cookies.mayOpen(sequence: segment.dataSequence, acknowledgment: segment.acknowledgment, at: now)
        {
            // Should the server's socket have gone without a word, a listener with SYN cookies would make
            // a new connection of this segment (with data or without), reading from its first byte,
            // where no message of the filter's starts. A bare ACK and bytes the server has are dropped (a
            // live socket has them); any others lose the stream, and so do bytes the server has sent
            // again: a client whose ACK from the server was lost would resend them until it gave up.
            if !payload.isEmpty {
                let end = segment.dataSequence &+ UInt32(truncatingIfNeeded: payload.count)
                let again = stream.cookieDropped == segment.dataSequence
                if again || Stream.distance(end, stream.serverNext) < 0 { stream.lost = true }
                stream.cookieDropped = segment.dataSequence
            }
            keep(stream, for: flow)
            return Framing(unframed: true, lost: stream.lost)
        }
        if binds || payload.isEmpty {
            keep(stream, for: flow)
            return Framing(unframed: binds)
        }
        var sequence = segment.dataSequence
        var data = payload
        if stream.serverKnown, Stream.distance(sequence, stream.serverNext) > 0 {
            // Bytes the server has: its TCP discards them, whatever they are. (Nothing lies before a
            // handshake's first byte: until the server acknowledges data, such bytes are not placed.)
            guard stream.isConfirmed || stream.handshake == nil else {
                return settle(stream, for: flow, Framing(unframed: true), dropsUnframed: dropsUnframed)
            }
            let old = Stream.distance(sequence, stream.serverNext)
            guard old < data.count else {
                keep(stream, for: flow)
                return Framing()
            }
            data = UnsafeRawBufferPointer(rebasing: data[old...])
            sequence = stream.serverNext
        }
        let placement = stream.placement(of: data, at: sequence)
        if placement == .before, dropsUnframed, stream.serverKnown {
            // Bytes let through, which the server lacks, were forgotten: what it will read there cannot
            // be checked, and it waits for them. The client connects again rather than stall.
            stream.lost = true
            keep(stream, for: flow)
            return Framing(unframed: true, lost: true)
        }
        guard case .same(let resent) = placement else {
            return settle(stream, for: flow, Framing(unframed: true), dropsUnframed: dropsUnframed)
        }
        data = UnsafeRawBufferPointer(rebasing: data[resent...])
        guard !data.isEmpty else {
            keep(stream, for: flow)
            return Framing()
        }
        return append(data, to: &stream, of: flow, at: now, dropsUnframed: dropsUnframed, judge)
    }

    /// Takes in what a segment of the server's says of the client's stream `flow`: its SYN starts a
    /// connection out (`connectingOut`), whose first ACK starts the peer's stream at the byte it
    /// acknowledges, as its SYN-ACK starts a stream afresh; its ACK tells what it has; its FIN closes
    /// it. A reset closes it too but says nothing of the server's position (the firewall's, sent on the
    /// filter's behalf, pass the queue as the server's, acknowledging what the client sent).
    mutating func hear(_ segment: DecodedPacket.TCPSegment, about flow: Flow, guarded: Bool, at now: Timestamp) {
        if segment.isSyn, !segment.isAck, guarded {
            // The server connects out from its SIP port: no other socket of its has these ports.
            if connectingOut.count >= capacity { connectingOut.removeAll() }
            connectingOut[flow] = segment.sequence
            discard(flow)
            return
        }
        if segment.isReset {
            // The server's reset (its own abort, or the firewall's on the filter's behalf, which the
            // client takes): the connection is gone either way, even one only remembered. It moves no
            // position.
            streams[flow]?.closed = true
            forgetRemembered(flow)
            return
        }
        guard segment.isAck else { return }
        if !connectingOut.isEmpty, let sent = connectingOut[flow] {
            if segment.sequence == (segment.isSyn ? sent : sent &+ 1) {
                // Its connection out is made: its first ACK (or, where the peer's SYN crossed its own,
                // its SYN-ACK) acknowledges the peer's SYN.
                connectingOut.removeValue(forKey: flow)
                start(handshake: segment.acknowledgment, synAck: nil, of: flow, at: now)
                return
            }
            // Another SYN-ACK is its listener's (the connection out is gone): a cookie like any.
            if segment.isSyn { connectingOut.removeValue(forKey: flow) }
        }
        if segment.isSyn {
            if guarded {
                start(handshake: segment.acknowledgment, synAck: segment.sequence, of: flow, at: now)
            } else {
                discard(flow)
            }
        } else if var stream = take(flow) ?? recall(flow, at: now) {
            if stream.isGuarded { stream.acknowledge(segment.acknowledgment) }
            if segment.isFin { stream.closed = true }
            keep(stream, for: flow)
        }
    }

    /// Starts `flow`'s stream at a handshake whose first data byte is `first`, unless that handshake is
    /// the one it started at and the server has acknowledged nothing since (the same SYN-ACK sent
    /// again: the client's handshake ACK was lost, or its SYN came again). A new connection on the same
    /// ports (even one with the same initial sequence number) has the server acknowledge from `first`
    /// afresh once the server acknowledged data on the old one; before that, another handshake on a
    /// connection the client completed makes it lost (the server may read from either). The client
    /// must complete the handshake the filter started the stream at (`Stream.mayBind`).
    mutating func start(handshake first: UInt32, synAck: UInt32?, of flow: Flow, at now: Timestamp) {
        var cookies = streams[flow]?.cookies ?? SynCookies()
        if case .at(_, _, let remembered)? = forgotten[flow]?.state { cookies = remembered }
        if let synAck { cookies.record(sequence: synAck, acknowledgment: first, at: now) }
        if let known = streams[flow], known.handshake == first, known.serverNext == first, known.serverKnown {
            streams[flow]?.cookies = cookies
            return
        }
        if var open = take(flow), !open.lost, !open.closed, !open.isConfirmed, open.established || !open.isHalfOpen {
            // Another handshake while the connection may just have been made from an earlier one (SYN
            // cookies answer every SYN, the client completing whichever it likes): where the server
            // reads is not known. (Once the server acknowledged data, its socket answers a SYN with an
            // ACK, never a SYN-ACK: a SYN-ACK then means the old connection is gone.)
            open.lost = true
            open.cookies = cookies
            keep(open, for: flow)
            return
        }
        forgotten.removeValue(forKey: flow)
        var stream = Stream(at: first, guarded: true, seen: now)
        (stream.serverKnown, stream.handshake, stream.cookies) = (true, first, cookies)
        keep(stream, for: flow)
    }

    /// Frames the first segment seen of a stream where it lies; bytes of it not framed wait for more
    /// and, on a guarded stream, bytes let through are kept until the server has them.
    mutating func start(
        _ flow: Flow, _ payload: UnsafeRawBufferPointer, at sequence: UInt32, _ now: Timestamp, guarded: Bool,
        _ judge: (SIPMessage, UnsafeRawBufferPointer) -> Bool
    ) -> Framing {
        let framed = frame(payload, judge)
        let leftover = payload.count - framed.used
        var framing = Framing(messages: framed.messages, unframed: framed.unframed, selfContained: leftover == 0)
        guard !framed.unframed, !framed.dropped else { return framing }
        if leftover > 0, leftover > bufferLimit || !mayWait(from: flow.source, at: now) {
            framing.unframed = true
            return framing
        }
        guard guarded || leftover > 0 else { return framing }
        var stream = Stream(at: sequence, guarded: guarded, seen: now)
        stream.bytes.append(contentsOf: guarded ? payload : UnsafeRawBufferPointer(rebasing: payload[framed.used...]))
        stream.nextSequence = sequence &+ UInt32(truncatingIfNeeded: payload.count)
        stream.waitingFrom = stream.bytes.count - leftover
        stream.needed = framed.needed
        stream.forgetJudged(beyond: judgedLimit, unacknowledged: bufferLimit)
        keep(stream, for: flow)
        return framing
    }

    /// Frames `data`, the bytes at `stream`'s position, with the message that waits there; keeps the
    /// stream as it was before them when they are dropped (a message refused, no SIP, a waiting message
    /// past the limit).
    mutating func append(
        _ data: UnsafeRawBufferPointer, to stream: inout Stream, of flow: Flow, at now: Timestamp,
        dropsUnframed: Bool, _ judge: (SIPMessage, UnsafeRawBufferPointer) -> Bool
    ) -> Framing {
        let wasWaiting = stream.isWaiting
        if !stream.isGuarded, !wasWaiting {
            // Nothing kept: framed where the bytes lie, as a first segment.
            return start(flow, data, at: stream.nextSequence, now, guarded: false, judge)
        }
        // The bytes held once only, so that adding to them copies nothing.
        var bytes = stream.bytes
        stream.bytes = []
        let before = stream
        bytes.append(contentsOf: data)
        stream.nextSequence &+= UInt32(truncatingIfNeeded: data.count)
        stream.bytes = bytes
        bytes = []
        var framing = Framing()
        var dropped = false
        if !wasWaiting || stream.mayComplete() {
            let framed = stream.bytes.withUnsafeBytes {
                frame(UnsafeRawBufferPointer(rebasing: $0[stream.waitingFrom...]), judge)
            }
            stream.waitingFrom += framed.used
            (stream.needed, stream.searched) = (framed.needed, 0)
            framing = Framing(
                messages: framed.messages, unframed: framed.unframed,
                selfContained: !wasWaiting && !stream.isWaiting)
            dropped = framed.dropped
        }
        let startsWaiting = !wasWaiting && stream.isWaiting
        if stream.waitingCount > bufferLimit || startsWaiting && !mayWait(from: flow.source, at: now) {
            framing.unframed = true
        }
        if framing.unframed || dropped {
            // Not delivered: the stream as it was.
            bytes = stream.bytes
            stream = before
            bytes.removeLast(data.count)
            stream.bytes = bytes
            return settle(stream, for: flow, framing, dropsUnframed: dropsUnframed)
        }
        if stream.isGuarded {
            stream.forgetJudged(beyond: judgedLimit, unacknowledged: bufferLimit)
        } else {
            stream.forget(stream.waitingFrom)
        }
        keep(stream, for: flow)
        return framing
    }

    /// Whether `source` may have one more message waiting: fewer than `waitingPerSource` of its streams
    /// wait. One address cannot fill the table with unfinished messages, pushing out others' (or its own
    /// oldest, whose end would then be framed afresh); a NAT office's phones rarely split a message at
    /// once. At the limit, messages that waited longer than `staleWaiting` (phones behind that NAT that
    /// lost power mid-message) give up their places, their connections lost: the table is searched for
    /// them at most once a second, so a flood of unfinished messages cannot make every segment a search.
    mutating func mayWait(from source: IPAddress, at now: Timestamp) -> Bool {
        if waitingBySource[source, default: 0] < waitingPerSource { return true }
        guard now.nanoseconds &- lastStaleSweep.nanoseconds >= 1_000_000_000 else { return false }
        lastStaleSweep = now
        let stale = streams.filter {
            $0.value.isWaiting && now.nanoseconds - $0.value.lastSeen.nanoseconds > Self.staleWaiting
        }
        for flow in stale.keys { evict(flow) }
        return waitingBySource[source, default: 0] < waitingPerSource
    }

    /// Keeps what is known of `flow` after a segment, unless the segment's unframed bytes pass
    /// (`dropsUnframed` false): then the server reads bytes the framer could not place, and the stream
    /// is no longer known. Returns `framing`.
    mutating func settle(_ stream: Stream, for flow: Flow, _ framing: Framing, dropsUnframed: Bool) -> Framing {
        if !framing.unframed || dropsUnframed { keep(stream, for: flow) }
        return framing
    }

    /// Why `packet` must be dropped again: it carries bytes of a segment dropped earlier on its flow (a
    /// retransmission). Nil for anything else.
    public func refusal(of packet: DecodedPacket, payloadCount: Int) -> Decision.Reason? {
        guard payloadCount > 0, !streams.isEmpty, let segment = packet.tcp,
            let refused = streams[Self.flow(of: packet)]?.refused
        else { return nil }
        let start = segment.dataSequence
        let end = start &+ UInt32(truncatingIfNeeded: payloadCount)
        let overlaps = Int32(bitPattern: start &- refused.until) < 0 && Int32(bitPattern: end &- refused.from) > 0
        return overlaps ? refused.reason : nil
    }

    /// Records that `packet`, just added, was dropped for `reason`: its retransmissions will be too.
    public mutating func refuse(_ packet: DecodedPacket, payloadCount: Int, reason: Decision.Reason, at now: Timestamp)
    {
        guard let segment = packet.tcp, !segment.isReset else { return }
        let flow = Self.flow(of: packet)
        let start = segment.dataSequence
        let end = start &+ UInt32(truncatingIfNeeded: payloadCount)
        var stream = take(flow) ?? Stream(at: start, guarded: true, seen: now)
        stream.refused = (start, end, reason)
        keep(stream, for: flow)
    }

    /// Whether `bytes` may be a start line cut short by the segment's end: visible ASCII and spaces, no
    /// line end yet, no longer than a start line may be.
    static func mayBeCutStartLine(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count < 512 && bytes.allSatisfy { $0 >= ByteClass.space && $0 < 0x7F }
    }

    /// Where the next message in `bytes` may start at `start` or after: past the CRLFs between messages
    /// (RFC 3261 §7.5, keep-alives included).
    static func messageStart(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var k = start
        while k < bytes.count, bytes[k] == ByteClass.cr || bytes[k] == ByteClass.lf { k += 1 }
        return k
    }

    static func flow(of packet: DecodedPacket) -> Flow {
        Flow(
            source: packet.source, destination: packet.destination, sourcePort: packet.sourcePort,
            destinationPort: packet.destinationPort)
    }

    /// Hands each complete message at the front of `bytes` to `judge`. Returns how many bytes are used
    /// up (the messages and the CRLFs around them, or all of them when what comes next is not SIP:
    /// `unframed`), how many messages there were, how many of the rest complete the next message when
    /// its headers ended (0 when they have not; `Stream.atLineEnd` when its start line is cut short), and
    /// whether `judge` said of a message that it has the segment dropped.
    func frame(
        _ bytes: UnsafeRawBufferPointer, _ judge: (SIPMessage, UnsafeRawBufferPointer) -> Bool
    ) -> (used: Int, messages: Int, unframed: Bool, needed: Int, dropped: Bool) {
        var start = 0
        var messages = 0
        var dropped = false
        while true {
            start = Self.messageStart(bytes, from: start)
            guard start < bytes.count else { return (start, messages, false, 0, dropped) }
            let rest = UnsafeRawBufferPointer(rebasing: bytes[start...])
            let message = classifier.classify(rest)
            if message.anomalies.contains(.notSIP) {
                // A start line the segment cut short ("SUBSCRIBE", "INVITE si") is no verdict yet: it waits.
                if Self.mayBeCutStartLine(rest) { return (start, messages, false, Stream.atLineEnd, dropped) }
                return (bytes.count, messages, true, 0, dropped)
            }
            if message.anomalies.contains(.contentLengthExceedsPayload) {
                let needed = Int(message.body.lowerBound) + Int(message.contentLength ?? 0)
                return (start, messages, false, needed, dropped)
            }
            // Two tests, not a set literal: in this function the literal is an array allocated per call.
            if message.anomalies.contains(.keepAlive) || message.anomalies.contains(.unterminatedHeaders) {
                return (start, messages, false, 0, dropped)
            }
            // Over a stream a missing Content-Length means an empty body.
            let length = message.contentLength == nil ? Int(message.body.lowerBound) : Int(message.end)
            let whole = UnsafeRawBufferPointer(rebasing: rest[..<length])
            // Bytes after the message (the next one) are no anomaly of it: those messages are read again alone.
            if judge(length == rest.count ? message : classifier.classify(whole), whole) { dropped = true }
            messages += 1
            start += length
        }
    }

    /// Forgets `flow`'s entry, remembering where a guarded stream stood, or, replaying, that it is lost
    /// (a message waited: the server holds its start). Inline nothing is kept of a lost stream (one the
    /// filter knows nothing of is lost), nor of one that carried no data yet.
    mutating func evict(_ flow: Flow) {
        guard let gone = take(flow), gone.isGuarded else { return }
        if gone.isHalfOpen || gone.isWaiting || gone.lost || gone.closed || !gone.isConfirmed {
            forgetCookies(gone.cookies)
            if framesLateJoins, !gone.isHalfOpen { remember(flow, as: .lost) }
        } else {
            remember(flow, as: .at(next: gone.nextSequence, server: gone.serverNext, cookies: gone.cookies))
        }
    }

    /// Takes note that `cookies` are forgotten (`cookiesForgottenUntil`; `anyUntil` is never later than
    /// the last expiry).
    mutating func forgetCookies(_ cookies: SynCookies) {
        cookiesForgottenUntil = Swift.max(cookiesForgottenUntil, cookies.expiries.max())
    }

    /// Takes note that the cookies of SYN-ACKs sent before `time`, not seen, are not known.
    public mutating func forgetCookies(sentBefore time: Timestamp) {
        cookiesForgottenUntil = Swift.max(cookiesForgottenUntil, SynCookies.expiry(madeAt: time))
    }

    /// Forgets what is remembered of `flow`, taking note of its cookies.
    mutating func forgetRemembered(_ flow: Flow) {
        guard !forgotten.isEmpty, let gone = forgotten.removeValue(forKey: flow) else { return }
        if case .at(_, _, let cookies) = gone.state { forgetCookies(cookies) }
    }

    /// Remembers what became of `flow`, whose entry is gone; the longest remembered is forgotten when
    /// there are `4 × capacity`.
    mutating func remember(_ flow: Flow, as state: Forgotten) {
        let limit = 4 * capacity
        let place: Int
        if forgottenOrder.count < limit {
            place = forgottenOrder.count
            forgottenOrder.append(flow)
        } else {
            place = nextForgotten
            let oldest = forgottenOrder[place]
            if forgotten[oldest]?.place == place { forgetRemembered(oldest) }
            forgottenOrder[place] = flow
            nextForgotten = (nextForgotten + 1) % limit
        }
        forgotten[flow] = (state, place)
    }

    /// The entry of a guarded stream forgotten where it stood, or lost.
    mutating func recall(_ flow: Flow, at now: Timestamp) -> Stream? {
        guard !forgotten.isEmpty, let state = forgotten.removeValue(forKey: flow)?.state else { return nil }
        var stream = Stream(at: 0, guarded: true, seen: now)
        switch state {
        case .lost: stream.lost = true
        case .at(let next, let server, let cookies):
            (stream.nextSequence, stream.serverNext, stream.serverKnown, stream.cookies) = (next, server, true, cookies)
        }
        return stream
    }

    /// Forgets all that is known of `flow`, taking note of its cookies.
    mutating func discard(_ flow: Flow) {
        if let gone = take(flow) { forgetCookies(gone.cookies) }
        forgetRemembered(flow)
    }

    /// Takes `flow`'s entry out of the table.
    mutating func take(_ flow: Flow) -> Stream? {
        guard !streams.isEmpty, let stream = streams.removeValue(forKey: flow) else { return nil }
        heldBytes -= stream.bytes.capacity
        if stream.isWaiting {
            waitingBySource[flow.source, default: 1] -= 1
            if waitingBySource[flow.source] == 0 { waitingBySource[flow.source] = nil }
        }
        return stream
    }

    /// Stores `stream` if it holds anything (a guarded stream's position, a waiting message, a refused
    /// range), first making room when the table is full or its arrays hold more than the budget: the
    /// least recently seen eighth goes (one sort per `capacity / 8` new streams, not a scan per stream);
    /// entries where nothing waits count as older by `idleHandicap`, so they go before waiting messages.
    /// A guarded stream evicted with a message waiting (which the server holds) or lost is remembered
    /// as lost: framed afresh, its next bytes would complete that message unjudged.
    mutating func keep(_ stream: Stream, for flow: Flow) {
        guard stream.isGuarded || stream.isWaiting || stream.refused != nil else { return }
        if streams.count >= capacity {
            let oldest = streams.sorted { $0.value.evictionAge < $1.value.evictionAge }
            for (flow, _) in oldest.prefix(max(streams.count / 8, 1)) { evict(flow) }
        }
        if heldBytes + stream.bytes.capacity > byteBudget {
            // The entries holding the most go until the bytes take at most seven eighths of the budget
            // (one sort per many segments): idle ones hold at most a few KiB.
            let largest = streams.sorted { $0.value.bytes.capacity > $1.value.bytes.capacity }
            for (flow, _) in largest {
                guard heldBytes + stream.bytes.capacity > byteBudget / 8 * 7 else { break }
                evict(flow)
            }
        }
        streams[flow] = stream
        heldBytes += stream.bytes.capacity
        if stream.isWaiting { waitingBySource[flow.source, default: 0] += 1 }
    }
}
