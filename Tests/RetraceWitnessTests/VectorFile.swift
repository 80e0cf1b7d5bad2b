import Foundation

/// Reads a vector file that sits beside the tests, so the tests never read outside the repository.
enum VectorFile {
    static func text(_ name: String, file: StaticString = #filePath) -> String {
        let url = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent("Vectors/\(name)")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }

    static func line(_ name: String) -> String {
        text(name).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
