import RetraceIdentity

/// A product line of the test brands: its GTIN, declared mass and bill of materials.
///
/// The masses are plausible for the device class, and the materials add up to less than the
/// mass (the rest is unlisted), so recycling figures can be checked against them (`L20`).
public struct SimulatedModel: Hashable, Sendable {
    public let name: String
    public let brand: String
    public let gtin: GTIN
    public let serialPrefix: String
    public let massGrams: Int64
    public let materials: [String: Int64]
    /// The GS1 company prefix length of the brand (both test brands hold 7-digit prefixes).
    public let companyPrefixLength: Int

    /// Builds a GTIN-14 from its first 13 digits, computing the GS1 mod-10 check digit.
    static func gtin(_ first13: String) -> GTIN {
        let digits = first13.compactMap(\.wholeNumberValue)
        var sum = 0
        for (index, digit) in digits.enumerated() { sum += index % 2 == 0 ? 3 * digit : digit }
        let check = (10 - sum % 10) % 10
        // The 13 digits are constants of this file; a typo shows up in the first test run.
        guard let gtin = try? GTIN(first13 + String(check)) else { preconditionFailure("bad model GTIN \(first13)") }
        return gtin
    }

    public func product(serial: String) throws -> SGTIN { SGTIN(gtin: gtin, serial: try Serial(serial)) }

    public static let phoneX = SimulatedModel(
        name: "Northwind Phone X",
        brand: "northwind",
        gtin: gtin("0950600013435"),
        serialPrefix: "NWX",
        massGrams: 204,
        materials: ["aluminium": 34, "glass": 52, "copper": 14, "cobalt": 7, "lithium": 2, "plastic": 30, "steel": 20],
        companyPrefixLength: 7
    )
    public static let phoneLite = SimulatedModel(
        name: "Northwind Phone Lite",
        brand: "northwind",
        gtin: gtin("0950600013436"),
        serialPrefix: "NWL",
        massGrams: 178,
        materials: ["aluminium": 20, "glass": 44, "copper": 11, "cobalt": 6, "lithium": 2, "plastic": 48],
        companyPrefixLength: 7
    )
    public static let laptop = SimulatedModel(
        name: "Northwind Laptop 14",
        brand: "northwind",
        gtin: gtin("0950600020011"),
        serialPrefix: "NWB",
        massGrams: 1390,
        materials: [
            "aluminium": 520, "copper": 95, "glass": 110, "plastic": 240, "cobalt": 28, "lithium": 6, "steel": 150,
        ],
        companyPrefixLength: 7
    )
    public static let tablet = SimulatedModel(
        name: "Northwind Tab 11",
        brand: "northwind",
        gtin: gtin("0950600030014"),
        serialPrefix: "NWT",
        massGrams: 480,
        materials: ["aluminium": 160, "glass": 120, "copper": 25, "cobalt": 14, "lithium": 3, "plastic": 60],
        companyPrefixLength: 7
    )
    public static let speaker = SimulatedModel(
        name: "Contoso Sound Bar Mini",
        brand: "contoso",
        gtin: gtin("0061414112345"),
        serialPrefix: "CSP",
        massGrams: 640,
        materials: ["plastic": 260, "steel": 120, "copper": 48, "neodymium": 12, "aluminium": 60],
        companyPrefixLength: 7
    )
    public static let headphones = SimulatedModel(
        name: "Contoso Studio Headphones",
        brand: "contoso",
        gtin: gtin("0061414122345"),
        serialPrefix: "CHP",
        massGrams: 254,
        materials: ["plastic": 140, "steel": 30, "copper": 18, "neodymium": 4],
        companyPrefixLength: 7
    )
    public static let earbuds = SimulatedModel(
        name: "Contoso Buds",
        brand: "contoso",
        gtin: gtin("0061414132345"),
        serialPrefix: "CEB",
        massGrams: 52,
        materials: ["plastic": 28, "copper": 4, "cobalt": 2, "lithium": 1],
        companyPrefixLength: 7
    )

    public static let all: [SimulatedModel] = [.phoneX, .phoneLite, .laptop, .tablet, .speaker, .headphones, .earbuds]

    /// The model a GTIN belongs to, if it is one of ``all``.
    public static func model(of gtin: GTIN) -> SimulatedModel? { all.first { $0.gtin == gtin } }
}
