import ArgumentParser
import Foundation
import SIPWardenCore

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify raw SIP message files.",
        discussion: """
            Each FILE holds one message as it travels on the wire (a UDP payload). The classifier reports \
            request or response, method or status, the headers the filter uses, and anomalies; a message is \
            malformed when an anomaly is one RFC 3261/4475 says to reject.

            With --json, one JSON object per file, one per line, in argument order. Exit 0 when every file \
            was read, 1 when one could not be (the others are still classified).
            """
    )

    @Flag(help: "One JSON object per file, one per line.")
    var json = false

    @Argument(help: "Raw SIP message files.")
    var files: [String]

    func run() throws {
        let classifier = SIPClassifier()
        var rows = [["FILE", "KIND", "METHOD/STATUS", "MALFORMED", "ANOMALIES"]]
        var unreadable = false
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                printError("\(file): cannot read file: \(unreadableReason(file))")
                unreadable = true
                continue
            }
            data.withUnsafeBytes { bytes in
                let message = classifier.classify(bytes)
                if json {
                    print(JSONValue.object([("file", .string(file))] + message.reportFields(in: bytes)).rendered)
                } else {
                    let what = message.isResponse ? String(message.status) : bytes.string(message.methodToken)
                    rows.append([
                        file, message.kind.rawValue, what, message.isMalformed ? "yes" : "no",
                        message.anomalies.names.joined(separator: ","),
                    ])
                }
            }
        }
        // A table of headers alone says nothing when no file could be read.
        if !json, rows.count > 1 { print(table(rows)) }
        if unreadable { throw ExitCode(1) }
    }
}
