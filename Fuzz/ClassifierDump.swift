// Prints every field the classifier reads from each input file, for `scripts/classifier-diff`, which
// compiles it into the SIPWardenCore module of two revisions (so it has no import) and compares their
// output. Only the classifier's public API is used, so that older revisions compile with it too.
import Foundation

@main struct ClassifierDump {
    /// `ClassifierDump DIRECTORY...`: one line per input file and cut (whole, half, all but the last byte).
    static func main() {
        let classifier = SIPClassifier()
        var files: [String] = []
        for directory in CommandLine.arguments.dropFirst() {
            guard let walk = FileManager.default.enumerator(atPath: directory) else { continue }
            for case let file as String in walk { files.append(directory + "/" + file) }
        }
        for file in files.sorted() {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            for cut in [data.count, data.count / 2, max(0, data.count - 1)] {
                let message = Array(data.prefix(cut)).withUnsafeBytes { classifier.classify($0) }
                print(file, cut, message)
            }
        }
    }
}
