import CanonicalJSON
import Foundation
import RetraceEvents
import RetraceIdentity
import RetraceRules
import Testing

/// The catalogue's CBV terms, its details schemas, and its agreement with spec/lifecycle.md.
struct CatalogueTests {
    /// Every CBV 2.0 business step and disposition, from GS1's CBV.ttl (github.com/gs1/EPCIS,
    /// commit 2b888bef, GS1 licence), the `owl:sameAs urn:epcglobal:cbv:…` names.
    static let cbvBizSteps: Set<String> = [
        "accepting", "arriving", "assembling", "collecting", "commissioning", "consigning", "creating_class_instance",
        "cycle_counting", "decommissioning", "departing", "destroying", "disassembling", "dispensing", "encoding",
        "entering_exiting", "holding", "inspecting", "installing", "killing", "loading", "other", "packing", "picking",
        "receiving", "removing", "repackaging", "repairing", "replacing", "reserving", "retail_selling", "sampling",
        "sensor_reporting", "shipping", "staging_outbound", "stock_taking", "stocking", "storing", "transporting",
        "unloading", "unpacking", "void_shipping",
    ]
    static let cbvDispositions: Set<String> = [
        "active", "available", "completeness_inferred", "completeness_verified", "conformant", "container_closed",
        "container_open", "damaged", "destroyed", "dispensed", "disposed", "encoded", "expired", "in_progress",
        "in_transit", "inactive", "mismatch_class", "mismatch_instance", "mismatch_quantity", "needs_replacement",
        "no_pedigree_match", "non_conformant", "non_sellable_other", "partially_dispensed", "recalled", "reserved",
        "retail_sold", "returned", "sellable_accessible", "sellable_not_accessible", "stolen", "unavailable", "unknown",
    ]

    static let specURL = TestParties.root.appendingPathComponent("spec/lifecycle.md")

    func statement(_ type: EventType, _ details: JSONObject) throws -> Statement {
        try Statement(
            type: type,
            product: try TestParties.northwindProduct("CAT-1"),
            previous: type == .commission ? nil : Digest.of([1]),
            signer: Digest.of([2]),
            time: TestParties.start,
            details: details
        )
    }

    func cbvName(_ urn: String, prefix: String) -> String? {
        urn.hasPrefix(prefix) ? String(urn.dropFirst(prefix.count)) : nil
    }

    @Test("every catalogue entry uses real CBV 2.0 terms, and a return is receiving + returned")
    func realCBVTerms() throws {
        for entry in Catalogue.entries {
            let step = try #require(cbvName(entry.bizStep, prefix: "urn:epcglobal:cbv:bizstep:"))
            #expect(Self.cbvBizSteps.contains(step), "\(entry.type): \(step)")
            if let disposition = entry.disposition {
                let name = try #require(cbvName(disposition, prefix: "urn:epcglobal:cbv:disp:"))
                #expect(Self.cbvDispositions.contains(name), "\(entry.type): \(name)")
            }
        }
        let receipt = try #require(Catalogue.entry(for: .returnReceive))
        #expect(receipt.bizStep == "urn:epcglobal:cbv:bizstep:receiving")
        #expect(receipt.disposition == "urn:epcglobal:cbv:disp:returned")
        #expect(Catalogue.entry(for: .roster) == nil)
    }

    @Test("CBV refinements from the details are real CBV terms too")
    func cbvRefinements() throws {
        let defective = try #require(Catalogue.cbv(for: try statement(.inspect, ["grade": "defective"])))
        #expect(defective.disposition == "urn:epcglobal:cbv:disp:non_conformant")
        let fine = try #require(Catalogue.cbv(for: try statement(.inspect, ["grade": "as-new"])))
        #expect(fine.disposition == "urn:epcglobal:cbv:disp:conformant")
        let replaced = try #require(Catalogue.cbv(for: try statement(.warrantyResolve, ["resolution": "replace"])))
        #expect(replaced.bizStep == "urn:epcglobal:cbv:bizstep:replacing")
        let damaged = try #require(Catalogue.cbv(for: try statement(.deliveryFailed, ["reason": "damaged-in-transit"])))
        #expect(damaged.disposition == "urn:epcglobal:cbv:disp:damaged")
        let samples: [(EventType, JSONObject)] = [
            (.warrantyResolve, ["resolution": "refund"]), (.warrantyResolve, ["resolution": "rejected"]),
            (.excessDisposition, ["action": "donate"]), (.recallRemedy, ["action": "not-affected"]),
        ]
        for (type, details) in samples {
            let cbv = try #require(Catalogue.cbv(for: try statement(type, details)))
            #expect(Self.cbvBizSteps.contains(cbv.bizStep.replacingOccurrences(of: Catalogue.bizStepPrefix, with: "")))
            if let disposition = cbv.disposition {
                #expect(
                    Self.cbvDispositions.contains(
                        disposition.replacingOccurrences(of: Catalogue.dispositionPrefix, with: "")
                    )
                )
            }
        }
    }

    @Test("the default details of every event type validate, and an unknown member is refused for every type")
    func everyTypeIsStrict() throws {
        let product = try TestParties.northwindProduct("CAT-2")
        for entry in Catalogue.entries {
            var details = ProductChain.defaultDetails(entry.type, product: product, time: TestParties.start)
            try Catalogue.validate(try statement(entry.type, details))
            details["note"] = "free text"
            #expect(throws: RuleViolation.invalidDetails) { try Catalogue.validate(try statement(entry.type, details)) }
            for field in entry.fields where field.isRequired {
                var missing = ProductChain.defaultDetails(entry.type, product: product, time: TestParties.start)
                missing[field.name] = nil
                #expect(throws: RuleViolation.invalidDetails, "\(entry.type) without \(field.name)") {
                    try Catalogue.validate(try statement(entry.type, missing))
                }
            }
        }
    }

    static let malformedDetails: [(EventType, JSONObject)] = {
        var cases: [(EventType, JSONObject)] = []
        cases.append((.commission, ["massGrams": 0]))
        cases.append((.commission, ["massGrams": 10, "materials": ["gold": 20]]))
        cases.append((.commission, ["materials": ["Gold": 1]]))
        cases.append((.commission, ["materials": [:]]))
        cases.append((.repair, ["work": []]))
        cases.append((.repair, ["work": ["a", "a"]]))
        cases.append((.repair, ["work": ["ok"], "parts": [["part": "battery"]]]))
        cases.append((.repair, ["work": ["ok"], "parts": [["part": "battery", "serial": "S1", "colour": "red"]]]))
        cases.append((.refurbish, ["work": ["x"], "tests": ["y"], "warrantyMonths": 61, "certified": true]))
        cases.append((.refurbish, ["work": ["x"], "tests": ["y"], "warrantyMonths": 12, "certified": "yes"]))
        cases.append((.tradeIn, ["credit": 100, "currency": "eur"]))
        cases.append((.inspect, ["grade": "as-new", "evidence": ["abc"]]))
        cases.append(
            (
                .warrantyResolve,
                ["claim": "C1", "resolution": "replace", "replacement": "https://id.gs1.org/01/9506000134352/21/X"]
            )
        )
        cases.append(
            (
                .warrantyResolve,
                ["claim": "C1", "resolution": "refund", "replacement": "https://id.gs1.org/01/09506000134352/21/X"]
            )
        )
        cases.append((.excessDisposition, ["action": "donate", "consignee": "alpine"]))
        cases.append((.leaseOut, ["leaseDigest": "00", "until": "2030-01-01T00:00:00Z"]))
        cases.append((.returnAuthorize, ["rma": "R-1", "reason": "changed-mind"]))
        cases.append(
            (
                .refurbish,
                ["work": ["x"], "tests": ["y"], "warrantyMonths": 12, "certified": true, "softwareVersion": "4 2"]
            )
        )
        return cases
    }()

    @Test("value kinds refuse values of the wrong shape", arguments: malformedDetails)
    func malformedValues(_ type: EventType, _ details: JSONObject) throws {
        #expect(throws: RuleViolation.invalidDetails) { try Catalogue.validate(try statement(type, details)) }
    }

    @Test("typed accessors refuse statements of another type")
    func typedAccessors() throws {
        let sale = try statement(.sell, ["orderDigest": .string(TestParties.saltedDigest("o"))])
        #expect(try SaleDetails(sale).orderDigest.hex == TestParties.saltedDigest("o"))
        #expect(throws: RuleViolation.invalidDetails) { _ = try RecycleDetails(sale) }
        #expect(throws: RuleViolation.invalidDetails) { _ = try ReturnDetails(sale) }
        let receipt = try statement(.returnReceive, ["condition": "damaged", "scanned": "(01)09506000134352(21)CAT-1"])
        #expect(try ReturnDetails(receipt).condition == "damaged")
    }

    // MARK: The spec agrees with the code

    func specTable(after heading: String) throws -> [[String]] {
        let text = try String(contentsOf: Self.specURL, encoding: .utf8)
        var rows: [[String]] = []
        var inSection = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("#") { inSection = line.hasPrefix(heading) }
            guard inSection, line.hasPrefix("| `") else { continue }
            rows.append(line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) })
        }
        return rows
    }

    func codeNames(_ cell: String) -> [String] {
        cell.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }
            .map { String($0.element) }
    }

    @Test("spec/lifecycle.md §2 lists every event type with the catalogue's roles and CBV terms")
    func specCatalogueTable() throws {
        let rows = try specTable(after: "## 2.")
        let byType = Dictionary(
            uniqueKeysWithValues: rows.filter { $0.count >= 5 && !$0[0].contains(" ") }.map {
                (codeNames($0[0]).first ?? "", $0)
            }
        )
        for entry in Catalogue.entries {
            let row = try #require(byType[entry.type.name], "\(entry.type) is missing from the spec table")
            #expect(Set(codeNames(row[1])) == Set(entry.roles.map(\.name)), "\(entry.type) roles")
            #expect(Catalogue.bizStepPrefix + (codeNames(row[2]).first ?? "") == entry.bizStep, "\(entry.type) bizStep")
            #expect(
                codeNames(row[3]).first.map { Catalogue.dispositionPrefix + $0 } == entry.disposition,
                "\(entry.type)"
            )
            #expect((row[4] == "yes") == EventType.batchable.contains(entry.type), "\(entry.type) batch")
        }
    }

    @Test("spec/lifecycle.md lists each event type's details members with their presence")
    func specDetailsTables() throws {
        let text = try String(contentsOf: Self.specURL, encoding: .utf8)
        for entry in Catalogue.entries {
            let heading = "#### `\(entry.type.name)`"
            let section = try #require(text.range(of: heading + "\n"), "no details section for \(entry.type)")
            let rest = text[section.upperBound...]
            let body = rest.range(of: "\n#").map { rest[..<$0.lowerBound] } ?? rest
            var members: [String: Bool] = [:]
            for line in body.split(separator: "\n") where line.hasPrefix("| `") {
                let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                members[codeNames(cells[0]).first ?? ""] = cells.last == "required"
            }
            let expected = Dictionary(uniqueKeysWithValues: entry.fields.map { ($0.name, $0.isRequired) })
            #expect(members == expected, "\(entry.type)")
            for field in entry.fields where !field.kind.choices.isEmpty {
                #expect(
                    body.contains(field.kind.choices.map { "`\($0)`" }.joined(separator: ", ")),
                    "\(entry.type).\(field.name)"
                )
            }
        }
    }

    @Test("spec/lifecycle.md §4 is the implementation's state table")
    func specStateTable() throws {
        let rows = try specTable(after: "## 4.")
        var table: [String: [String: [String]]] = [:]
        for row in rows where row.count >= 2 {
            let phase = codeNames(row[0]).first ?? ""
            var moves: [String: [String]] = [:]
            for move in row[1].split(separator: ";") {
                let names = codeNames(String(move))
                guard let event = names.first else { continue }
                moves[event] = Array(names.dropFirst())
            }
            table[phase] = moves
        }
        #expect(table == StateTableTests.expected)
    }

    @Test("spec/lifecycle.md §5 names every lifecycle rule id the code uses")
    func specRuleIDs() throws {
        let text = try String(contentsOf: Self.specURL, encoding: .utf8)
        let ids = [
            Rule.commissionedFirst, Rule.commissionOnce, Rule.role, Rule.ownPrefix, Rule.stateTable,
            Rule.returnNeedsSale,
            Rule.terminal, Rule.timeOrder, Rule.recallRestricts, Rule.recallOverlay, Rule.missingRestricts,
            Rule.wrongChannel, Rule.details, Rule.referencesMatch, Rule.restockCondition, Rule.accreditation,
            Rule.certifiedResale, Rule.dockScan, Rule.warrantyRepairFirst, Rule.massBalance, Rule.receiveByConsignee,
            Rule.statementProduct, Rule.signerSite,
        ]
        for id in ids { #expect(text.contains("| `\(id)` |"), "\(id)") }
        #expect(text.contains("**300 seconds**") && Lifecycle.clockSkew == 300)
    }
}
