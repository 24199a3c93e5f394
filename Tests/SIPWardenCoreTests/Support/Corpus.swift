import Foundation

/// The shared test corpus (`../shared/corpus` next to the repository): data nobody here wrote.
enum Corpus {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.lastPathComponent != "Tests" { url.deleteLastPathComponent() }
        return url.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/corpus")
    }()

    static func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    static func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: url(path))) }

    /// Every file below `folder` whose name ends in `suffix`, sorted by path.
    static func files(in folder: String, suffix: String) -> [String] {
        let base = url(folder)
        guard let walker = FileManager.default.enumerator(atPath: base.path) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(suffix) }.sorted().map { "\(folder)/\($0)" }
    }

    /// Rows of a simple CSV file (quoted fields may hold commas).
    static func csv(_ path: String) throws -> [[String: String]] {
        let lines = String(decoding: try bytes(path), as: UTF8.self).split(whereSeparator: \.isNewline)
        func fields(_ line: Substring) -> [String] {
            var result: [String] = []
            var current = ""
            var quoted = false
            for character in line {
                if character == "\"" {
                    quoted.toggle()
                } else if character == ",", !quoted {
                    result.append(current)
                    current = ""
                } else {
                    current.append(character)
                }
            }
            return result + [current]
        }
        let header = fields(lines[0])
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, fields($0))) }
    }
}
