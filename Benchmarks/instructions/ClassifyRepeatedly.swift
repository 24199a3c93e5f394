// Classifies one of the benchmark's sample messages N times, for `scripts/count-instructions`, which
// compiles it into one module with SIPWardenCore's Bytes/ and SIP/ and the sample messages (so it has
// no import) and counts the instructions of N and 2N runs under valgrind.

/// `ClassifyRepeatedly --list`: the samples' names, one a line. `ClassifyRepeatedly INDEX N`: classifies
/// sample INDEX N times.
@main struct ClassifyRepeatedly {
    static func main() {
        let arguments = CommandLine.arguments
        if arguments.count == 2, arguments[1] == "--list" {
            for sample in SampleMessages.all { print(sample.name, "(\(sample.bytes.count) B)") }
            return
        }
        guard arguments.count == 3, let index = Int(arguments[1]), SampleMessages.all.indices.contains(index),
            let times = Int(arguments[2]), times >= 0
        else {
            print("usage: ClassifyRepeatedly --list | INDEX N")
            return
        }
        let classifier = SIPClassifier()
        var ends: UInt32 = 0
        SampleMessages.all[index].bytes.withUnsafeBytes { bytes in
            for _ in 0..<times { ends &+= classifier.classify(bytes).end }
        }
        // Reading the result keeps the optimiser from dropping the loop.
        if ends == 1 { print(ends) }
    }
}
