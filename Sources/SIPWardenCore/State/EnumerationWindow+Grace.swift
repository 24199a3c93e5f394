/// Where an address is in its registration grace: a new site's gateway or DECT base registers its
/// (often consecutive) lines at once, more of them before the registrar's first answer than an
/// extension scan may send. What tells the two apart is the server's answers: a site's lines get
/// challenges and 2xx, a scan's probes mostly 404s (or 403s, 480s …). So the scan thresholds its
/// REGISTERs cross wait, from its first REGISTER, while
/// - less than `graceLength` passed (the lines of a site register at once),
/// - the server refused fewer than `refusalsEndingGrace` of its REGISTERs without credentials
///   (`registerAnswered`): one or two mistyped lines' 404s, not a scan's,
/// - and they name no more than `enumeration.grace_users` users (a scan's burst before the first
///   answer names more; resends while a registrar is slow to answer name no new ones).
/// A request of another method to a user the window counted already (a phone's SUBSCRIBE to its own
/// mailbox) waits too. Then the grace ends, once for the address: the thresholds crossed during it are
/// forgiven, and those crossed after it score. A grace that forgave nothing (a lone REGISTER or two,
/// perhaps forged in the address's name) is not used up by its time or window: it starts again.
enum RegistrationGrace: UInt8 {
    /// No REGISTER yet.
    case unused
    case open
    case ended
}

extension EnumerationWindow {
    static let graceLength: Int64 = 10_000_000_000
    static let refusalsEndingGrace = 3

    /// Whether the thresholds of a request of `method` (`seenUser`: to a user counted already) wait, in
    /// the registration grace. A REGISTER opens it (the window then starts with it).
    mutating func waits(
        _ method: SIPMethod, seenUser: Bool, _ settings: RuleSet.Enumeration, now: Timestamp
    ) -> Bool {
        let register = method == .register
        switch grace {
        case .ended:
            return false
        case .unused:
            guard register else { return false }
            grace = .open
            start = now.nanoseconds
        case .open:
            guard register || seenUser else { return false }
            if now.nanoseconds - start > Self.graceLength, !usedGrace { start = now.nanoseconds }
        }
        if now.nanoseconds - start > Self.graceLength || distinctUsers > settings.graceUsers {
            grace = .ended
            return false
        }
        // Forgiven: resends after the grace (a registrar slow to answer) start runs anew, and must not
        // score the thresholds their first sending crossed.
        scoredLevels = UInt8(min(max(Int(scoredLevels), levels(settings)), 255))
        return true
    }

    /// Whether the grace forgave a threshold (or one was scored before it).
    var usedGrace: Bool { scoredLevels > 0 }

    /// The server's final answer (`status`) to a REGISTER without credentials. One that says its user is
    /// not there (404, 604, 480, 484, 603, or a 403 to a request without credentials) counts towards the
    /// end of the grace; a new site's lines get challenges and 2xx (or a 423 asking for a longer
    /// registration, a redirection, a server's failure).
    mutating func registerAnswered(_ status: UInt16) {
        switch status {
        case 403, 404, 480, 484, 603, 604: break
        default: return
        }
        guard grace == .open else { return }
        refusedRegisters &+= 1
        if Int(refusedRegisters) >= Self.refusalsEndingGrace { grace = .ended }
    }
}
