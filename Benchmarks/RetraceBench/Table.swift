/// A printed table: right-aligned columns sized to their widest cell, so figures line up in a
/// terminal and in BENCHMARKS.md alike.
struct Table {
    let headers: [String]
    private(set) var rows: [[String]] = []

    init(_ headers: String...) { self.headers = headers }

    mutating func add(_ cells: String...) { rows.append(cells) }

    func print() {
        let all = [headers] + rows
        let widths = headers.indices.map { column in all.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        for row in all {
            let cells = row.enumerated().map { column, cell in
                let width = column < widths.count ? widths[column] : cell.count
                return String(repeating: " ", count: max(0, width - cell.count)) + cell
            }
            Swift.print(cells.joined(separator: "  "))
        }
    }
}

extension Measure {
    /// Milliseconds with two decimals.
    static func ms(_ value: Double) -> String { format(value, 2) }
    /// A share in percent with one decimal.
    static func percent(_ value: Double) -> String { format(value * 100, 1) + "%" }
}
