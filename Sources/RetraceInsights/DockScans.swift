import CanonicalJSON
import RetraceEvents
import RetraceRules

/// Flagged dock scans, counted from the docks' signed scan journals (spec/insights.md §2).
///
/// A line counts only if it parses strictly, its signature verifies under a key the roster in force
/// at the end of the audited ledger gives to a receiving party (a returns centre or a retailer), and
/// the ledger size it was judged against is no larger than the audited ledger. Any other line is
/// rejected and reported with its reason, never silently dropped; the same signed line seen twice
/// (a journal copied into two files) counts once.
public struct DockScans: Sendable {
    public let filter: InsightsFilter
    public private(set) var journals = 0
    public private(set) var observations = 0
    public private(set) var byVerdict: [String: Int] = [:]
    public private(set) var byDock: [String: [String: Int]] = [:]
    public private(set) var rejected: [String] = []
    public private(set) var duplicates = 0
    private var seen: Set<[UInt8]> = []

    public init(filter: InsightsFilter) { self.filter = filter }

    /// A journal that could not be read at all: reported among the rejections, never skipped.
    public mutating func unreadable(journal name: String, reason: String) {
        journals += 1
        rejected.append("\(name): cannot be read: \(reason)")
    }

    /// Counts one journal's lines, judged under `trust` (the roster in force at the ledger's end).
    public mutating func add(journal name: String, lines: [[UInt8]], trust: TrustState, treeSize: UInt64) {
        journals += 1
        for (number, line) in lines.enumerated() where !line.isEmpty {
            let place = "\(name):\(number + 1)"
            let observation: DockObservation
            do { observation = try DockObservation(parsing: line) } catch {
                rejected.append("\(place): \(error.description)")
                continue
            }
            guard let (party, key) = trust.key(fingerprint: observation.signer) else {
                rejected.append("\(place): signed by a key the roster does not know (\(observation.signer.short))")
                continue
            }
            guard party.has(.returnsCentre) || party.has(.retailer) else {
                rejected.append("\(place): \(party.id) is not a receiving party (returns-centre or retailer)")
                continue
            }
            guard observation.time >= key.validFrom, key.validUntil.map({ observation.time < $0 }) ?? true else {
                rejected.append("\(place): \(party.id)'s key was not valid at \(observation.time)")
                continue
            }
            guard observation.isSigned(by: key.verifier.publicKey) else {
                rejected.append("\(place): the signature does not verify under \(party.id)'s key")
                continue
            }
            if let size = observation.checkpointSize, size > treeSize {
                rejected.append("\(place): judged against \(size) entries, beyond this ledger's \(treeSize)")
                continue
            }
            guard seen.insert(observation.signature).inserted else {
                duplicates += 1
                continue
            }
            guard filter.covers(time: observation.time), filter.retailer == nil || filter.retailer == party.id
            else { continue }
            if let gtin = filter.gtin, observation.product?.gtin.digits != gtin { continue }
            if let brand = filter.brand {
                guard let product = observation.product, trust.roster?.brandOwner(of: product.gtin)?.id == brand
                else { continue }
            }
            observations += 1
            byVerdict[observation.verdict, default: 0] += 1
            byDock[party.id, default: [:]][observation.verdict, default: 0] += 1
        }
    }
}

extension DockScans {
    /// The verdict codes that are fraud or policy signals, by the report member that counts them.
    static let signals: [(member: String, verdict: String)] = [
        ("seenAfterEndOfLife", "end-of-life"), ("doubleReturnClaims", "already-returned"),
        ("mismatchedProducts", "product-mismatch"), ("unknownSerials", "unknown-serial"),
        ("stolenAtDock", "reported-stolen"), ("neverSold", "never-sold"), ("recalledAtDock", "recalled"),
        ("attemptedOutsideWindow", "outside-return-window"), ("attemptedWrongChannel", "wrong-channel"),
    ]

    public var json: JSONValue {
        var docks = JSONObject()
        for (dock, verdicts) in byDock {
            docks[dock] = .object(JSONObject(verdicts.map { ($0.key, JSONValue.integer(Int64($0.value))) }))
        }
        var signals = JSONObject()
        for (member, verdict) in Self.signals { signals[member] = .integer(Int64(byVerdict[verdict] ?? 0)) }
        return .object([
            "journals": .integer(Int64(journals)), "observations": .integer(Int64(observations)),
            "duplicates": .integer(Int64(duplicates)), "rejectedCount": .integer(Int64(rejected.count)),
            "rejected": .array(rejected.prefix(20).map(JSONValue.string)),
            "byVerdict": .object(JSONObject(byVerdict.map { ($0.key, JSONValue.integer(Int64($0.value))) })),
            "byDock": .object(docks), "signals": .object(signals),
        ])
    }
}
