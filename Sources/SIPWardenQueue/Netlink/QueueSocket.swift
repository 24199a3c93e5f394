import CNetfilterQueue
import SIPWardenCore
import SystemPackage

/// One NFQUEUE queue's netlink socket, bound and configured; closed exactly once, when the owner lets
/// go of it. Used by one thread at a time: the daemon opens it, then hands it to the queue's worker.
public final class QueueSocket: @unchecked Sendable {
    let handle: OpaquePointer
    public let queue: UInt16
    /// The daemon settings the socket was opened with (its batch size and the pause after a batch).
    public let settings: RuleSet.Daemon
    var bound = false

    /// Opens a socket for `queue` with the daemon settings and binds the queue.
    /// The corresponding C functions are `cnfq_open` and `cnfq_bind`.
    public init(queue: UInt16, settings: RuleSet.Daemon, receiveTimeoutMilliseconds: Int32 = 200)
        throws(SystemCallError)
    {
        var config = cnfq_config(
            queue: queue, copy_range: UInt32(settings.copyRange), max_length: UInt32(settings.queueLength),
            fail_open: settings.queueFull == .accept ? 1 : 0, batch: UInt32(settings.batch),
            receive_buffer: Int32(settings.receiveBufferMiB << 20), receive_timeout_ms: receiveTimeoutMilliseconds)
        guard let handle = cnfq_open(&config) else { throw .last("open netlink socket for queue \(queue)") }
        self.handle = handle
        self.queue = queue
        self.settings = settings
        // Every stored property is set: from here a throw runs `deinit`, which closes the socket.
        guard cnfq_bind(handle) == 0 else {
            throw .last("bind NFQUEUE \(queue) (another process holding it, or no CAP_NET_ADMIN?)")
        }
        bound = true
    }

    deinit {
        if bound { _ = cnfq_unbind(handle) }
        cnfq_close(handle)
    }

    /// Receives a batch; returns how many messages arrived (0 on timeout).
    /// The corresponding C function is `cnfq_receive` (recvmmsg).
    func receive(wait: Bool) -> Result<Int, SystemCallError> {
        let count = retryingInterrupts { cnfq_receive(handle, wait ? 0 : 1) }
        return count < 0 ? .failure(.last("receive from queue \(queue)")) : .success(Int(count))
    }

    /// The queued packet in received message `index`, or nil for another kind of message; malformed
    /// messages are nil too (there is no packet id to answer). The corresponding C function is
    /// `cnfq_packet_at`.
    @inline(__always)
    func packet(at index: Int) -> cnfq_packet? {
        var packet = cnfq_packet()
        return cnfq_packet_at(handle, UInt32(index), &packet) == 1 ? packet : nil
    }

    /// Sends verdicts in one message train. The corresponding C functions are `cnfq_verdicts_add`,
    /// `cnfq_verdicts_add_batch` and `cnfq_verdicts_send`.
    func send(_ verdicts: VerdictBatch) -> Result<Void, SystemCallError> {
        cnfq_verdicts_reset(handle)
        let coalesced = verdicts.coalesced
        for index in 0..<verdicts.count {
            let entry = verdicts.entries[index]
            if VerdictBatch.isCovered(entry, by: coalesced) { continue }
            cnfq_verdicts_add(handle, entry.id, entry.kernelVerdict, entry.mark == 0 ? 0 : 1, entry.mark)
        }
        if let coalesced { cnfq_verdicts_add_batch(handle, coalesced.id, coalesced.verdict) }
        let sent = retryingInterrupts { cnfq_verdicts_send(handle) }
        return sent < 0 ? .failure(.last("send verdicts to queue \(queue)")) : .success(())
    }

    /// Unbinds the queue now (the kernel drops what is still queued, so judge everything first).
    /// The corresponding C function is `cnfq_unbind`.
    func unbind() {
        guard bound else { return }
        bound = false
        _ = cnfq_unbind(handle)
    }
}
