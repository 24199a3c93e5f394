import Foundation

/// One line of /proc/net/netfilter/nfnetlink_queue: what the kernel counts for a queue.
public struct KernelQueueStatistics: Equatable, Sendable {
    public var queue: Int
    public var portID: Int
    /// Packets waiting for a verdict now.
    public var waiting: Int
    public var copyRange: Int
    /// Dropped because the queue was full (or accepted unjudged, with fail-open).
    public var queueDropped: Int
    /// Dropped because the daemon's socket buffer was full.
    public var userDropped: Int
    public var lastID: Int

    /// Parses the file's text: `queue portid waiting copy_mode copy_range queue_dropped user_dropped id 1`.
    public static func parse(_ text: String) -> [KernelQueueStatistics] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).compactMap { Int($0) }
            guard fields.count >= 8 else { return nil }
            return KernelQueueStatistics(
                queue: fields[0], portID: fields[1], waiting: fields[2], copyRange: fields[4],
                queueDropped: fields[5], userDropped: fields[6], lastID: fields[7])
        }
    }

    /// The kernel's current statistics, by queue number; empty when the file cannot be read.
    public static func read(path: String = "/proc/net/netfilter/nfnetlink_queue") -> [Int: KernelQueueStatistics] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        return Dictionary(parse(text).map { ($0.queue, $0) }, uniquingKeysWith: { $1 })
    }
}
