import CoreMetrics
import Prometheus
import SIPWardenCore

/// The daemon's Prometheus metrics, created once with fixed labels (verdict, reason, method, table,
/// queue; never a source address) and brought up to date from `DaemonStats` when scraped. The queues
/// count in plain integers; only the scrape touches these.
final class DaemonMetrics: @unchecked Sendable {
    let registry = PrometheusCollectorRegistry()
    let verdicts: [String: CoreMetrics.Counter]
    let messages: [String: CoreMetrics.Counter]
    let packets: [String: CoreMetrics.Counter]
    let bans: CoreMetrics.Counter
    let queueBatches: [Int: CoreMetrics.Counter]
    let queueDropped: [Int: CoreMetrics.Counter]
    let userDropped: [Int: CoreMetrics.Counter]
    let queueWaiting: [Int: CoreMetrics.Gauge]
    let tableEntries: [String: CoreMetrics.Gauge]
    let tableCapacity: [String: CoreMetrics.Gauge]
    let activeBans: CoreMetrics.Gauge
    /// What each counter has been given so far, by key: counters only grow by the difference.
    var pushed: [String: Int] = [:]

    static let tables = ["sources", "prefixes", "users", "nonces"]

    init(queues: ClosedRange<UInt16>) {
        let factory = PrometheusMetricsFactory(registry: registry)
        var verdicts: [String: CoreMetrics.Counter] = [:]
        for verdict in Decision.Verdict.allCases {
            for reason in Decision.Reason.allCases {
                verdicts["\(verdict.rawValue)/\(reason.rawValue)"] = CoreMetrics.Counter(
                    label: "sipwarden_verdicts_total",
                    dimensions: [("verdict", verdict.rawValue), ("reason", reason.rawValue)], factory: factory)
            }
        }
        self.verdicts = verdicts
        let methods = QueueCounters().messageCounts.map(\.method)
        messages = Dictionary(
            uniqueKeysWithValues: methods.map {
                (
                    $0,
                    CoreMetrics.Counter(
                        label: "sipwarden_sip_messages_total", dimensions: [("method", $0)], factory: factory)
                )
            })
        packets = Dictionary(
            uniqueKeysWithValues: ["inbound", "outbound"].map {
                (
                    $0,
                    CoreMetrics.Counter(
                        label: "sipwarden_packets_total", dimensions: [("direction", $0)], factory: factory)
                )
            })
        bans = CoreMetrics.Counter(label: "sipwarden_bans_total", factory: factory)
        func perQueue<Metric>(_ make: (String) -> Metric) -> [Int: Metric] {
            Dictionary(uniqueKeysWithValues: queues.map { (Int($0), make(String($0))) })
        }
        queueBatches = perQueue {
            CoreMetrics.Counter(label: "sipwarden_queue_batches_total", dimensions: [("queue", $0)], factory: factory)
        }
        queueDropped = perQueue {
            CoreMetrics.Counter(label: "sipwarden_queue_dropped_total", dimensions: [("queue", $0)], factory: factory)
        }
        userDropped = perQueue {
            CoreMetrics.Counter(
                label: "sipwarden_queue_user_dropped_total", dimensions: [("queue", $0)], factory: factory)
        }
        queueWaiting = perQueue {
            CoreMetrics.Gauge(label: "sipwarden_queue_waiting_packets", dimensions: [("queue", $0)], factory: factory)
        }
        tableEntries = Dictionary(
            uniqueKeysWithValues: Self.tables.map {
                ($0, CoreMetrics.Gauge(label: "sipwarden_table_entries", dimensions: [("table", $0)], factory: factory))
            })
        tableCapacity = Dictionary(
            uniqueKeysWithValues: Self.tables.map {
                (
                    $0,
                    CoreMetrics.Gauge(label: "sipwarden_table_capacity", dimensions: [("table", $0)], factory: factory)
                )
            })
        activeBans = CoreMetrics.Gauge(label: "sipwarden_active_bans", factory: factory)
    }

    /// Brings every metric up to `stats` and renders the Prometheus text.
    func render(_ stats: DaemonStats) -> [UInt8] {
        for verdict in stats.verdicts {
            if let counter = verdicts["\(verdict.verdict)/\(verdict.reason)"] {
                advance(counter, key: "v/\(verdict.verdict)/\(verdict.reason)", to: verdict.count)
            }
        }
        for (method, count) in stats.messages {
            if let counter = messages[method] { advance(counter, key: "m/\(method)", to: count) }
        }
        advance(packets["inbound"]!, key: "p/in", to: stats.queues.reduce(0) { $0 + $1.inbound })
        advance(packets["outbound"]!, key: "p/out", to: stats.queues.reduce(0) { $0 + $1.outbound })
        advance(bans, key: "bans", to: stats.bansIssued)
        for queue in stats.queues {
            if let counter = queueBatches[queue.queue], let value = queue.batches {
                advance(counter, key: "qb/\(queue.queue)", to: value)
            }
            if let counter = queueDropped[queue.queue], let value = queue.queueDropped {
                advance(counter, key: "qd/\(queue.queue)", to: value)
            }
            if let counter = userDropped[queue.queue], let value = queue.userDropped {
                advance(counter, key: "ud/\(queue.queue)", to: value)
            }
            if let value = queue.waiting { queueWaiting[queue.queue]?.record(value) }
        }
        for table in stats.tables {
            tableEntries[table.name]?.record(table.entries)
            tableCapacity[table.name]?.record(table.capacity)
        }
        activeBans.record(stats.activeBans)
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    func advance(_ counter: CoreMetrics.Counter, key: String, to total: Int) {
        let delta = total - pushed[key, default: 0]
        guard delta > 0 else { return }
        counter.increment(by: delta)
        pushed[key] = total
    }
}
