import Synchronization

/// The one entry point: reads a product identity in whatever form it arrives and validates it strictly.
///
/// The form is recognised from the first characters (after an optional symbology identifier):
/// - `http://` or `https://` (any case): GS1 Digital Link URI;
/// - `urn:` (any case): EPC URN (only `urn:epc:id:sgtin:` is accepted);
/// - `(`: human-readable `(01)…(21)…`;
/// - a digit or GS (0x1D): GS1 element strings as a scanner sends them.
///
/// A GS1-mode symbology identifier (`]d2`, `]Q3`, `]C1`, `]e0`, `]J1`) always means element strings; a plain one
/// (`]Q1`, `]d1`) means the barcode holds text, which for us must be a URI.
public enum IdentityParser {
    /// Parses `input`, ignoring spaces, tabs, CR and LF around it (scanners often append a newline).
    ///
    /// - Parameter referenceYear: the year YYMMDD dates are expanded around (GS1 century rule, see ``GS1Date``);
    ///   defaults to the current UTC year. Pass a fixed year to get reproducible results.
    /// - Throws: ``IdentityError`` whose `position` is a 0-based `Character` offset into `input` as given.
    public static func parse(
        _ input: String,
        referenceYear: Int = GS1Date.currentYear
    ) throws(IdentityError)
        -> ProductScan
    {
        guard input.utf8.count <= Recent.longestInput else {
            return try parseAfresh(input, referenceYear: referenceYear)
        }
        let key = Recent.Key(input: Array(input.utf8), referenceYear: referenceYear)
        if let known = recent.withLock({ $0.outcomes[key] }) { return try known.get() }
        let outcome = Result { () throws(IdentityError) in try parseAfresh(input, referenceYear: referenceYear) }
        recent.withLock { recent in
            if recent.outcomes.count >= Recent.capacity { recent.outcomes.removeAll(keepingCapacity: true) }
            recent.outcomes[key] = outcome
        }
        return try outcome.get()
    }

    /// Outcomes of recent parses, by input and reference year (everything the outcome depends on).
    ///
    /// A dock verdict parses the same Digital Link some six times (the scan, the chain's product,
    /// the lifecycle rules' checks of scanned identities), at about 130 K instructions each on the
    /// `Character`-level parser: 0.8 M of a cold 20-event scan's 11 M. Parsing is a function of
    /// its inputs alone, so a kept outcome, a refusal included, is the one a fresh parse gives.
    private struct Recent {
        /// The input's exact bytes: `String` equality is canonical equivalence, under which two
        /// inputs with different bytes (and so different refusals) would be one key.
        struct Key: Hashable {
            let input: [UInt8]
            let referenceYear: Int

            func hash(into hasher: inout Hasher) {
                input.withUnsafeBytes { hasher.combine(bytes: $0) }
                hasher.combine(referenceYear)
            }
        }
        /// Kept outcomes, cleared when full; longer inputs (none valid is near it) are never kept.
        static let capacity = 4_096
        static let longestInput = 512
        var outcomes: [Key: Result<ProductScan, IdentityError>] = [:]
    }

    private static let recent = Mutex(Recent())

    static func parseAfresh(_ input: String, referenceYear: Int) throws(IdentityError) -> ProductScan {
        let characters = Array(input)
        var start = 0
        var end = characters.count
        while start < end, isScannerWhitespace(characters[start]) { start += 1 }
        while end > start, isScannerWhitespace(characters[end - 1]) { end -= 1 }
        guard start < end else {
            throw IdentityError(.emptyInput, "nothing was scanned (the input is empty or only whitespace)")
        }
        var symbology: SymbologyIdentifier?
        if characters[start] == "]" {
            let identifier = try SymbologyIdentifier.read(characters, at: start, end: end)
            start += identifier.code.count
            guard start < end else {
                throw IdentityError(
                    .emptyInput,
                    "no data after the symbology identifier \(identifier.code) at position \(start)",
                    position: start
                )
            }
            symbology = identifier
        }
        let range = start..<end
        let first = characters[start]

        if let symbology, symbology.payload == .elementStrings {
            return try ElementStringParser.parse(
                characters,
                range: range,
                symbologyIdentifier: symbology.code,
                referenceYear: referenceYear
            )
        }
        if DigitalLinkParser.hasPrefix(characters, "http://", at: start, end: end)
            || DigitalLinkParser.hasPrefix(characters, "https://", at: start, end: end)
        {
            return try DigitalLinkParser.parse(
                characters,
                range: range,
                symbologyIdentifier: symbology?.code,
                referenceYear: referenceYear
            )
        }
        if DigitalLinkParser.hasPrefix(characters, "urn:", at: start, end: end) {
            return try EPCURNParser.parse(characters, range: range, symbologyIdentifier: symbology?.code)
        }
        if let symbology {
            let position = start - symbology.code.count
            throw IdentityError(
                .unknownSymbology,
                "symbology identifier \(symbology.code) at position \(position) "
                    + "(\(symbology.name) without FNC1) means plain text, which must be a Digital Link URI here; "
                    + "GS1 element strings need a GS1 mode identifier such as ]d2 or ]Q3",
                position: position
            )
        }
        if first == "(" {
            return try HumanReadableParser.parse(characters, range: range, referenceYear: referenceYear)
        }
        if first.isASCIIDigit || first == ElementStringParser.groupSeparator {
            return try ElementStringParser.parse(
                characters,
                range: range,
                symbologyIdentifier: nil,
                referenceYear: referenceYear
            )
        }
        throw IdentityError(
            .unrecognizedFormat,
            "cannot tell the form from \(first.errorDescription) at position \(start): expected "
                + "GS1 element strings (digits), '(01)…', 'https://…/01/…' or 'urn:epc:id:sgtin:…'",
            position: start
        )
    }

    /// What scanners and keyboards append or prepend; GS is not included, it is data.
    private static func isScannerWhitespace(_ character: Character) -> Bool {
        character == " " || character == "\t" || character == "\n" || character == "\r" || character == "\r\n"
    }
}
