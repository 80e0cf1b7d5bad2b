import Foundation
import Testing

@testable import RetraceIdentity

/// spec/format.md §1.2 writes GS1 character set 82 out in full, so an implementer needs no GS1
/// table (issue 16 point 11). The list in the spec and the list the parser enforces must be one.
@Suite("The GS1 facts written into the spec")
struct SpecCharacterSetTests {
    static let format = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../spec/format.md").standardizedFileURL

    @Test("format.md lists exactly the 82 characters the parser accepts, in code point order")
    func characterSet82() throws {
        let text = try String(contentsOf: Self.format, encoding: .utf8)
        #expect(CharacterSet82.characters.count == 82)
        #expect(text.contains("`` \(CharacterSet82.characters) ``"), "format.md §1.2 must list the code's set")
        let scalars = CharacterSet82.characters.unicodeScalars.map(\.value)
        #expect(scalars == scalars.sorted())
    }
}
