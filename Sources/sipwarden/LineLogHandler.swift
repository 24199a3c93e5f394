import Foundation
import Logging

/// Writes one line per log event to stderr: `LEVEL MESSAGE key=value …`, `src` first, the other keys
/// sorted, so fail2ban, CrowdSec or a SIEM can match a ban with a plain pattern. Under journald
/// (JOURNAL_STREAM set) the level becomes a `<N>` syslog prefix and journald adds the time.
struct LineLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    let journal = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil
    static let lock = NSLock()

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let keys = merged.keys.sorted { ($0 == "src" ? 0 : 1, $0) < ($1 == "src" ? 0 : 1, $1) }
        let fields = keys.map { "\($0)=\(merged[$0]!)" }.joined(separator: " ")
        let prefix = journal ? "<\(Self.syslogPriority(event.level))>" : "\(event.level) "
        let line = prefix + "\(event.message)" + (fields.isEmpty ? "" : " " + fields) + "\n"
        Self.lock.lock()
        FileHandle.standardError.write(Data(line.utf8))
        Self.lock.unlock()
    }

    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }
}
