import CanonicalJSON
import RetraceEvents

extension ReturnInsights {
    /// The report as JSON (spec/insights.md §3 gives the shape). Groups are arrays ordered by key,
    /// rates are integers in basis points (returns per 10,000 sales), durations whole hours.
    public func json(treeSize: UInt64, root: String, scans: DockScans? = nil) -> JSONValue {
        func tallies(_ groups: [String: Tally]) -> JSONValue {
            .array(
                groups.keys.sorted().map { key in
                    let tally = groups[key]!
                    var object: JSONObject = [
                        "key": .string(key), "sales": .integer(Int64(tally.sales)),
                        "returns": .integer(Int64(tally.returns)),
                    ]
                    object["rateBasisPoints"] = tally.rateBasisPoints.map { .integer(Int64($0)) } ?? .null
                    return .object(object)
                }
            )
        }
        func counts(_ counts: [String: Int]) -> JSONValue {
            .object(JSONObject(counts.map { ($0.key, JSONValue.integer(Int64($0.value))) }))
        }
        func distribution(_ values: Distribution) -> JSONValue {
            .object([
                "count": .integer(Int64(values.count)), "median": values.percentile(50).map(JSONValue.integer) ?? .null,
                "p90": values.percentile(90).map(JSONValue.integer) ?? .null,
            ])
        }
        var filterObject = JSONObject()
        if let from = filter.from { filterObject["from"] = .string(from.description) }
        if let to = filter.to { filterObject["to"] = .string(to.description) }
        if let brand = filter.brand { filterObject["brand"] = .string(brand) }
        if let retailer = filter.retailer { filterObject["retailer"] = .string(retailer) }
        if let gtin = filter.gtin { filterObject["gtin"] = .string(gtin) }
        let overall = Tally(sales: sales, returns: returns)
        return .object([
            "ledger": .object([
                "treeSize": .integer(Int64(treeSize)), "root": .string(root), "eventsRead": .integer(Int64(eventsRead)),
            ]),
            "filter": .object(filterObject),
            "returns": .object([
                "sales": .integer(Int64(sales)), "returns": .integer(Int64(returns)),
                "rateBasisPoints": overall.rateBasisPoints.map { .integer(Int64($0)) } ?? .null,
                "byGTIN": tallies(byGTIN), "byBrand": tallies(byBrand), "byRetailer": tallies(byRetailer),
                "byChannel": tallies(byChannel), "byMonth": tallies(byMonth), "byDock": counts(returnsByDock),
                "reasons": counts(reasons), "saleToReturnHours": distribution(saleToReturnHours),
                "failedDeliveries": counts(failedDeliveries), "afterWindow": .integer(Int64(returnsAfterWindow)),
                "atAnotherRetailer": .integer(Int64(returnsAtAnotherRetailer)), "tradeIns": .integer(Int64(tradeIns)),
                "leaseReturns": .integer(Int64(leaseReturns)),
            ]),
            "recovery": .object([
                "outcomes": counts(
                    Dictionary(uniqueKeysWithValues: recoveryOutcomes.map { ($0.key.rawValue, $0.value) })
                ),
                "returnToResaleHours": distribution(returnToResaleHours),
                "value": .object(
                    JSONObject(
                        value.map { currency, value in
                            (
                                currency,
                                JSONValue.object([
                                    "returnedUnits": .integer(Int64(value.returnedUnits)),
                                    "originalPrice": .integer(value.originalPrice),
                                    "resoldUnits": .integer(Int64(value.resoldUnits)),
                                    "recovered": .integer(value.recovered),
                                ])
                            )
                        }
                    )
                ),
            ]),
            "recalls": .array(
                recalls.map {
                    .object([
                        "notice": .string($0.notice), "lot": .string($0.lot), "reason": .string($0.reason),
                        "remedy": .string($0.remedy), "affected": .integer(Int64($0.affected)),
                        "remedied": .integer(Int64($0.remedied)), "notAffected": .integer(Int64($0.notAffected)),
                        "endOfLife": .integer(Int64($0.endOfLife)), "stillInField": .integer(Int64($0.stillInField)),
                    ])
                }
            ),
            // Scan-based signals only when journals were read: absent is "not counted", never zero.
            "dockScans": scans?.json ?? .null,
            "fraud": .object([
                "stolenResurfaced": .object([
                    "total": .integer(Int64(stolenResurfacedByDock.values.reduce(0, +))),
                    "byDock": counts(stolenResurfacedByDock), "byReportingParty": counts(stolenResurfacedByRetailer),
                ]),
                "lostResurfaced": .integer(Int64(lostResurfaced)),
                "serialsReturnedAgain": .integer(Int64(serialsReturnedAgain)),
                "repeatReturners": .array(
                    repeatReturners.map {
                        .object([
                            "customerDigest": .string($0.customerDigest.hex), "returns": .integer(Int64($0.returns)),
                            "retailers": .array($0.retailers.sorted().map(JSONValue.string)),
                        ])
                    }
                ),
            ]),
        ])
    }
}
