import CanonicalJSON
import RetraceEvents
import RetraceIdentity
import RetraceStorage

/// The next statement a racing writer signs for a product: commission, then ship and receive in
/// turn, each on the head it read.
///
/// Used by the concurrency tests and by their child-process appender, so that both race in the same
/// way. Each racer signs at its own sites and with its own tag, so two racers' statements for the
/// same head differ: the loser of a race meets a chain conflict, never a duplicate statement.
public enum RacingStep {
    public static let brandSites = ["9506000000015", "9506000000022"]
    public static let retailSites = ["9520001000010", "9520001000027"]

    public static func next(
        for item: SGTIN,
        head: ChainLink?,
        racer: Int,
        tag: String,
        at time: Timestamp,
        parties: TestParties
    ) throws -> SignedStatement {
        let brand = brandSites[racer % 2]
        let shop = retailSites[racer % 2]
        let tag = JSONValue.string(tag)
        guard let head else {
            return try parties.sign(
                .commission,
                product: item,
                previous: nil,
                by: "northwind",
                at: time,
                location: brand,
                details: JSONObject(["lot": tag])
            )
        }
        let previous = try Digest(bytes: head.eventID)
        if head.sequence % 2 == 0 {
            return try parties.sign(
                .ship,
                product: item,
                previous: previous,
                by: "northwind",
                at: time,
                location: brand,
                details: JSONObject(["shipment": tag])
            )
        }
        return try parties.sign(
            .receive,
            product: item,
            previous: previous,
            by: "fabrikam",
            at: time,
            location: shop,
            details: JSONObject(["shipment": tag])
        )
    }
}
