import Benchmark
import COsipPeer
import SIPTraffic
import SIPWardenCore

/// One classification per hand-written message, and libosip2 parsing the same bytes.
/// Each iteration handles the message 1,000 times; the scaled (`*`) rows are per message.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 1_000_000
    )

    let classifier = SIPClassifier()
    for sample in SampleMessages.all {
        Benchmark("classify \(sample.name) (\(sample.bytes.count) B)") { benchmark in
            sample.bytes.withUnsafeBytes { bytes in
                for _ in benchmark.scaledIterations {
                    blackHole(classifier.classify(bytes))
                }
            }
        } setup: {
            // A benchmark of a message the classifier rejects would measure the wrong path.
            let message = sample.bytes.withUnsafeBytes { classifier.classify($0) }
            precondition(
                message.anomalies.isDisjoint(with: .notSIP) && !message.isMalformed,
                "\(sample.name) does not classify as well-formed SIP: \(message.anomalies)")
        }
    }

    for sample in SampleMessages.all {
        Benchmark("libosip2 \(sample.name) (\(sample.bytes.count) B)") { benchmark in
            sample.bytes.withUnsafeBytes { bytes in
                for _ in benchmark.scaledIterations {
                    blackHole(cosip_parse(bytes.baseAddress, bytes.count))
                }
            }
        } setup: {
            precondition(cosip_setup() == 0, "parser_init failed")
            let result = sample.bytes.withUnsafeBytes { cosip_parse($0.baseAddress, $0.count) }
            precondition(result == 0, "libosip2 rejects \(sample.name)")
        }
    }
}
