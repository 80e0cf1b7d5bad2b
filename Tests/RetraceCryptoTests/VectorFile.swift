import Foundation

/// Loads a JSON vector file that sits beside the tests, so the tests never read outside the repository.
enum VectorFile {
    static func url(_ name: String, file: StaticString = #filePath) -> URL {
        URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent("Vectors/\(name)")
    }
}
