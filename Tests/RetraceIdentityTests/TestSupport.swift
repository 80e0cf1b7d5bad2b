import RetraceIdentity
import Testing

/// FNC1 as a scanner transmits it.
let gs = "\u{1D}"

/// A fixed reference year so date expansion does not depend on when the tests run.
let referenceYear = 2025

/// Real GS1 examples, check digits verified by hand (weights 3,1,3,… from the right).
enum Known {
    /// GS1's own example GTIN-14 (check digit 2).
    static let gtin14 = "09506000134352"
    /// EAN-13 (check digit 1).
    static let ean13 = "4006381333931"
    /// UPC-A / GTIN-12 (check digit 2).
    static let upcA = "036000291452"
    /// GTIN-8 (check digit 4).
    static let gtin8 = "96385074"
    /// Tag Data Standard example: company prefix 0614141, indicator 8, item reference 12345 (check digit 8).
    static let tdsGTIN = "80614141123458"
}

func scan(_ text: String) throws(IdentityError) -> ProductScan {
    try IdentityParser.parse(text, referenceYear: referenceYear)
}

/// Runs `body`, expecting it to fail with `code`, optionally at `position` and with `fragments` in the reason.
@discardableResult
func expectFailure(
    _ code: IdentityError.Code,
    at position: Int? = nil,
    mentioning fragments: [String] = [],
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws(IdentityError) -> Void
) -> IdentityError? {
    do {
        try body()
        Issue.record("expected failure \(code), but it succeeded", sourceLocation: sourceLocation)
        return nil
    } catch {
        #expect(error.code == code, "reason: \(error.reason)", sourceLocation: sourceLocation)
        if let position {
            #expect(error.position == position, "reason: \(error.reason)", sourceLocation: sourceLocation)
        }
        for fragment in fragments {
            #expect(error.reason.contains(fragment), "reason: \(error.reason)", sourceLocation: sourceLocation)
        }
        return error
    }
}

/// Expects `text` to be refused by the parser with `code` (and position / reason fragments when given).
@discardableResult
func expectRefused(
    _ text: String,
    _ code: IdentityError.Code,
    at position: Int? = nil,
    mentioning fragments: [String] = [],
    sourceLocation: SourceLocation = #_sourceLocation
) -> IdentityError? {
    expectFailure(code, at: position, mentioning: fragments, sourceLocation: sourceLocation) {
        () throws(IdentityError) in _ = try scan(text)
    }
}
