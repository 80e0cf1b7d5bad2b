import CanonicalJSON
import RetraceEvents
import RetraceIdentity

/// One member of an event's `details`, as the catalogue defines it: name, value kind, presence.
///
/// Value kinds are deliberately narrow. Free text is limited to short references (RMA numbers,
/// certificate numbers) whose alphabet has no space and no `@`, so a name, postal address or
/// e-mail address cannot be written into the append-only log; customers and orders appear only as
/// salted SHA-256 digests computed by the retailer.
public struct DetailField: Hashable, Sendable {
    /// What a value must look like.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        enum Base: Hashable, Sendable {
            case reference, slug, digest, time, flag, grams, currency, version, scan, party, product
            case gtin, image
            case integer(ClosedRange<Int64>)
            case text(ClosedRange<Int>)
            case choice([String])
            case slugs, digests, parts, materials
        }
        let base: Base

        /// 1-64 characters of `A-Z a-z 0-9 . _ : / -`: RMA numbers, claim and certificate numbers.
        public static let reference = Kind(base: .reference)
        /// A code word: 1-64 lowercase letters and digits in hyphen-separated words.
        public static let slug = Kind(base: .slug)
        /// 64 lowercase hex digits: a salted SHA-256 digest or a document hash.
        public static let digest = Kind(base: .digest)
        /// `YYYY-MM-DDTHH:MM:SSZ`.
        public static let time = Kind(base: .time)
        public static let flag = Kind(base: .flag)
        /// Whole grams, 1 to 10^9.
        public static let grams = Kind(base: .grams)
        /// ISO 4217 alphabetic code, three uppercase letters.
        public static let currency = Kind(base: .currency)
        /// A software version: 1-32 characters of `A-Z a-z 0-9 . _ + -`.
        public static let version = Kind(base: .version)
        /// The raw identity read by a scanner (Digital Link, element string or EPC URI), 1-512 characters.
        public static let scan = Kind(base: .scan)
        /// The id of a party in the roster in force.
        public static let party = Kind(base: .party)
        /// Another product, as its canonical Digital Link.
        public static let product = Kind(base: .product)
        /// A list of 1-64 distinct slugs.
        public static let slugs = Kind(base: .slugs)
        /// A list of 1-64 distinct digests.
        public static let digests = Kind(base: .digests)
        /// A list of 1-64 replaced parts `{"part": slug, "serial": reference}`.
        public static let parts = Kind(base: .parts)
        /// An object of 1-64 members: material slug → whole grams (0 to 10^9).
        public static let materials = Kind(base: .materials)

        /// A GTIN-14 (exactly 14 digits) with its GS1 check digit: the one spelling of a product class.
        public static let gtin = Kind(base: .gtin)
        /// `{"sha256": digest, "url": https URL}`: an image by reference, bound to its bytes by their hash.
        public static let image = Kind(base: .image)

        public static func integer(_ range: ClosedRange<Int64>) -> Kind { Kind(base: .integer(range)) }
        /// Free text of `range` Unicode code points: no control characters, no white space at either
        /// end. Only for what a brand owner says about a product class (its name and model), never
        /// about a person.
        public static func text(_ range: ClosedRange<Int>) -> Kind { Kind(base: .text(range)) }
        public static func choice(_ values: [String]) -> Kind { Kind(base: .choice(values)) }

        /// The allowed values of a choice, empty for other kinds.
        public var choices: [String] {
            if case .choice(let values) = base { return values }
            return []
        }

        public var description: String {
            switch base {
            case .reference: "reference"
            case .slug: "code"
            case .digest: "digest"
            case .time: "time"
            case .flag: "boolean"
            case .grams: "grams"
            case .currency: "currency"
            case .version: "version"
            case .scan: "scan"
            case .party: "party id"
            case .product: "product"
            case .gtin: "GTIN"
            case .image: "image"
            case .integer(let range): "integer \(range.lowerBound)-\(range.upperBound)"
            case .text(let range): "text \(range.lowerBound)-\(range.upperBound)"
            case .choice(let values): "one of " + values.map { "`\($0)`" }.joined(separator: ", ")
            case .slugs: "list of codes"
            case .digests: "list of digests"
            case .parts: "list of parts"
            case .materials: "material → grams"
            }
        }
    }

    public let name: String
    public let kind: Kind
    public let isRequired: Bool
    /// Where the field sits in a statement, for the messages of ``Catalogue/validate(_:)``: spelled
    /// once with the catalogue, not again for every field of every statement checked (three
    /// strings built per judged event, issue 15).
    let statementPath: String

    public init(_ name: String, _ kind: Kind, required: Bool) {
        self.name = name
        self.kind = kind
        self.isRequired = required
        self.statementPath = "\(Self.detailsPath).\(name)"
    }

    /// The path of a statement's details.
    static let detailsPath = "statement.details"

    static let maxGrams: Int64 = 1_000_000_000
    static let maxListCount = 64

    /// Checks one value against the kind.
    func check(_ value: JSONValue, path: String) throws(FieldProblem) {
        switch kind.base {
        case .reference:
            try Self.text(value, path: path, Self.isReference, "1-64 characters of A-Z a-z 0-9 . _ : / -")
        case .slug:
            try Self.text(value, path: path, Self.isSlug, "a code of lowercase letters and digits in hyphenated words")
        case .digest:
            _ = try StrictReader.digest(StrictReader.string(value, path: path), path: path)
        case .time:
            _ = try StrictReader.time(StrictReader.string(value, path: path), path: path)
        case .flag:
            guard case .bool = value else {
                throw FieldProblem(path: path, reason: "expected true or false, found \(StrictReader.kind(value))")
            }
        case .grams:
            let grams = try StrictReader.integer(value, path: path)
            guard grams >= 1, grams <= Self.maxGrams else {
                throw FieldProblem(
                    path: path,
                    reason: "expected whole grams from 1 to \(Self.maxGrams), found \(grams)"
                )
            }
        case .currency:
            try Self.text(
                value,
                path: path,
                { $0.utf8.count == 3 && $0.utf8.allSatisfy { $0 >= 0x41 && $0 <= 0x5a } },
                "an ISO 4217 code of three uppercase letters"
            )
        case .version:
            try Self.text(value, path: path, Self.isVersion, "1-32 characters of A-Z a-z 0-9 . _ + -")
        case .scan:
            try Self.text(value, path: path, { !$0.isEmpty && $0.utf8.count <= 512 }, "1-512 characters as scanned")
        case .party:
            try Self.text(value, path: path, Self.isSlug, "a party id")
        case .product:
            let text = try StrictReader.string(value, path: path)
            guard let scan = try? IdentityParser.parse(text), scan.sgtin.digitalLink == text else {
                throw FieldProblem(path: path, reason: "expected a product's canonical GS1 Digital Link URI")
            }
        case .gtin:
            try Self.text(value, path: path, Self.isGTIN14, "a GTIN-14: 14 digits ending in the GS1 check digit")
        case .image:
            var image = try StrictReader(value, path: path)
            try DetailField("sha256", .digest, required: true).check(image.required("sha256"), path: image.at("sha256"))
            try Self.text(
                image.required("url"),
                path: image.at("url"),
                Self.isHTTPSURL,
                "an https URL of at most \(Self.maxURLLength) characters, without spaces or user information"
            )
            try image.finish()
        case .text(let range):
            let text = try StrictReader.string(value, path: path)
            let scalars = text.unicodeScalars
            guard range.contains(scalars.count) else {
                throw FieldProblem(
                    path: path,
                    reason: "expected \(range.lowerBound) to \(range.upperBound) characters, found \(scalars.count)"
                )
            }
            guard !scalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw FieldProblem(path: path, reason: "expected text without control characters (line breaks, tabs)")
            }
            guard let first = scalars.first, let last = scalars.last, !first.properties.isWhitespace,
                !last.properties.isWhitespace
            else {
                throw FieldProblem(path: path, reason: "expected text without white space at either end")
            }
        case .integer(let range):
            let number = try StrictReader.integer(value, path: path)
            guard range.contains(number) else {
                throw FieldProblem(
                    path: path,
                    reason: "expected \(range.lowerBound) to \(range.upperBound), found \(number)"
                )
            }
        case .choice(let values):
            let text = try StrictReader.string(value, path: path)
            guard values.contains(text) else {
                throw FieldProblem(
                    path: path,
                    reason: "\"\(text)\" is not one of " + values.joined(separator: ", ")
                )
            }
        case .slugs:
            try Self.list(value, path: path) { (item, itemPath) throws(FieldProblem) in
                try Self.text(
                    item,
                    path: itemPath,
                    Self.isSlug,
                    "a code of lowercase letters and digits in hyphenated words"
                )
            }
        case .digests:
            try Self.list(value, path: path) { (item, itemPath) throws(FieldProblem) in
                _ = try StrictReader.digest(StrictReader.string(item, path: itemPath), path: itemPath)
            }
        case .parts:
            try Self.list(value, path: path) { (item, itemPath) throws(FieldProblem) in
                var part = try StrictReader(item, path: itemPath)
                try DetailField("part", .slug, required: true).check(part.required("part"), path: part.at("part"))
                try DetailField("serial", .reference, required: true).check(
                    part.required("serial"),
                    path: part.at("serial")
                )
                try part.finish()
            }
        case .materials:
            var reader = try StrictReader(value, path: path)
            guard !reader.object.isEmpty, reader.object.count <= Self.maxListCount else {
                throw FieldProblem(path: path, reason: "expected 1 to \(Self.maxListCount) materials")
            }
            for key in reader.object.keys {
                guard Self.isSlug(key) else {
                    throw FieldProblem(
                        path: reader.at(key),
                        reason: "a material name is a lowercase code such as \"aluminium\""
                    )
                }
                let grams = try StrictReader.integer(reader.required(key), path: reader.at(key))
                guard grams >= 0, grams <= Self.maxGrams else {
                    throw FieldProblem(path: reader.at(key), reason: "expected whole grams from 0 to \(Self.maxGrams)")
                }
            }
            try reader.finish()
        }
    }

    private static func text(
        _ value: JSONValue,
        path: String,
        _ isValid: (String) -> Bool,
        _ expected: String
    ) throws(FieldProblem) {
        let text = try StrictReader.string(value, path: path)
        guard isValid(text) else { throw FieldProblem(path: path, reason: "expected \(expected), found \"\(text)\"") }
    }

    private static func list(
        _ value: JSONValue,
        path: String,
        _ each: (JSONValue, String) throws(FieldProblem) -> Void
    ) throws(FieldProblem) {
        let items = try StrictReader.array(value, path: path)
        guard !items.isEmpty, items.count <= maxListCount else {
            throw FieldProblem(path: path, reason: "expected 1 to \(maxListCount) items, found \(items.count)")
        }
        guard Set(items).count == items.count else { throw FieldProblem(path: path, reason: "an item is listed twice") }
        for (index, item) in items.enumerated() { try each(item, "\(path)[\(index)]") }
    }

    // MARK: Alphabets

    /// Longest image URL: beyond it a link is not a reference but a payload.
    static let maxURLLength = 2_000

    static func isGTIN14(_ text: String) -> Bool {
        let digits = Array(text.utf8)
        guard digits.count == 14, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        return (try? GTIN(text))?.digits == text
    }

    /// `https://host[:port][/path][?query][#fragment]`, printable ASCII only, no `@` before the path
    /// (no user information: a URL with a password in it would be signed into the log for ever).
    static func isHTTPSURL(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        let scheme = Array("https://".utf8)
        guard bytes.count <= maxURLLength, bytes.count > scheme.count, Array(bytes.prefix(scheme.count)) == scheme,
            bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7f && !"\"<>\\^`{|}".utf8.contains($0) })
        else { return false }
        let authority = bytes.dropFirst(scheme.count).prefix { $0 != 0x2f && $0 != 0x3f && $0 != 0x23 }
        return !authority.isEmpty && !authority.contains(0x40) && authority.first != 0x3a
    }

    static func isReference(_ text: String) -> Bool {
        let bytes = text.utf8
        return !bytes.isEmpty && bytes.count <= 64
            && bytes.allSatisfy {
                isAlphanumeric($0) || $0 == 0x2e || $0 == 0x5f || $0 == 0x3a || $0 == 0x2f || $0 == 0x2d
            }
    }

    static func isSlug(_ text: String) -> Bool {
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= 64, bytes.first != 0x2d, bytes.last != 0x2d else { return false }
        var previousHyphen = false
        for byte in bytes {
            if byte == 0x2d {
                if previousHyphen { return false }
                previousHyphen = true
            } else {
                guard (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) else { return false }
                previousHyphen = false
            }
        }
        return true
    }

    static func isVersion(_ text: String) -> Bool {
        let bytes = text.utf8
        return !bytes.isEmpty && bytes.count <= 32
            && bytes.allSatisfy { isAlphanumeric($0) || $0 == 0x2e || $0 == 0x5f || $0 == 0x2b || $0 == 0x2d }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
    }
}
