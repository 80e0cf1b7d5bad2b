import CanonicalJSON
import Foundation
import Synchronization

/// Writing to the terminal: aligned human text, single-line JSON, and a progress bar.
enum Output {
    /// Standard output, through FileHandle so nothing is lost when the process exits with a code.
    static func print(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// One JSON document per line, keys in canonical (sorted) order so the shape is stable.
    static func json(_ value: JSONValue) throws {
        let bytes = try CanonicalJSON.encode(value)
        FileHandle.standardOutput.write(Data(bytes + [0x0a]))
    }

    /// Rows of label/value pairs with the values aligned.
    static func fields(_ rows: [(String, String)], indent: String = "") -> String {
        let width = rows.map { $0.0.count }.max() ?? 0
        return rows.map { label, value in
            indent + label + String(repeating: " ", count: width - label.count) + "  " + value
        }.joined(separator: "\n")
    }

    /// A table: columns padded to their widest cell; the last column is not padded.
    static func table(_ rows: [[String]], indent: String = "") -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return rows.map { row in
            indent
                + row.enumerated().map { index, cell in
                    index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
                }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
