import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceAudit
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceInsights
import RetraceRules

/// `retrace insights`: what the ledger says about returns as a business, from audited events only.
struct InsightsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "insights",
        abstract: "Return rates, reasons, recovery, recalls and fraud signals, from the events a full audit accepts.",
        discussion: """
            The ledger is audited as it is read (under --governance-key/--log-key, or the keys it records); a ledger \
            that fails its audit gives no figures (exit 1). Customers appear only as the salted digests the \
            retailers wrote. With --server (and both key files) the remote ledger is first copied and verified as \
            `audit --server --mirror` does, and the figures are folded from that verified copy, never taken from \
            the server's own report.
            """
    )

    @Option(help: "The ledger (an SQLite file or a postgres:// URL).")
    var db: String?
    @OptionGroup var remote: RemoteOptions
    @OptionGroup var freshness: FreshnessOptions
    @Option(
        help: ArgumentHelp(
            "With --server: the ledger store that keeps the verified copy between runs (as audit --mirror); "
                + "without it a scratch copy is made and removed.",
            valueName: "STORE"
        )
    )
    var mirror: String?
    @Option(help: "Only events at or after this time: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ.")
    var from: String?
    @Option(help: "Only events before this time: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ.")
    var to: String?
    @Option(help: "Only products of this brand owner (party id).")
    var brand: String?
    @Option(help: "Only figures of this retailer's sales (party id).")
    var retailer: String?
    @Option(help: "Only products of this GTIN (any identity form of a product also works).")
    var gtin: String?
    @Option(name: .customLong("scans"), help: "A dock's signed scan journal (retrace scan --journal); repeatable.")
    var scans: [String] = []
    @Option(
        name: .customLong("state"),
        help: ArgumentHelp(
            "Keep the figures and the checkpoint they cover in FILE; the next run audits and folds only the entries "
                + "appended since (after a consistency proof from that checkpoint). Delete FILE to fold the whole "
                + "ledger again.",
            valueName: "FILE"
        )
    )
    var state: String?
    @OptionGroup var trust: TrustOptions
    @OptionGroup var output: JSONFlag

    func run() throws {
        guard let server = try remote.address(db: db) else {
            guard let db else { throw CLIError.usage("give --db LEDGER or --server URL") }
            guard mirror == nil else { throw CLIError.usage("--mirror works with --server") }
            try freshness.requireServer("insights")
            try report(db: db, source: db)
            return
        }
        let anchors = try Remote.anchors(governance: trust.governanceKey, log: trust.logKey)
        let scratch = mirror == nil
        let location = mirror ?? (NSTemporaryDirectory() + "retrace-insights-\(UUID().uuidString).sqlite")
        defer { if scratch { LedgerAccess.removeLedgerFiles(location) } }
        let sync = try AuditCommand.syncMirror(
            server: server,
            into: location,
            remote: remote,
            freshness: freshness,
            anchors: anchors,
            threads: 2,
            keepGoing: false
        )
        guard sync.report.passed else {
            let first = sync.report.failures.first.map { ": \($0.description)" } ?? ""
            throw CLIError(
                CLIError.refused,
                "insights: the remote ledger fails its audit\(first); nothing is reported from a ledger that does not verify"
            )
        }
        try report(db: location, source: server)
    }

    private func report(db: String, source: String) throws {
        var filter = InsightsFilter(brand: brand, retailer: retailer)
        filter.from = try from.map { try Self.time($0, option: "--from") }
        filter.to = try to.map { try Self.time($0, option: "--to") }
        if let gtin {
            if let parsed = try? IdentityParser.parse(gtin) {
                filter.gtin = parsed.sgtin.gtin.digits
            } else {
                do { filter.gtin = try GTIN(gtin).digits } catch {
                    throw CLIError.usage("--gtin \(gtin) is not a GTIN: \(error.reason)")
                }
            }
        }
        var insights = ReturnInsights(filter: filter)
        var since: InsightsSnapshot?
        if let state {
            let loaded: InsightsSnapshot?
            do { loaded = try InsightsSnapshot.load(path: state) } catch {
                throw CLIError(
                    CLIError.cannotCheck,
                    "--state \(state) cannot be read (\(error)); delete it to fold the whole ledger again"
                )
            }
            if let loaded, loaded.insights.filter == filter {
                insights = loaded.insights
                since = loaded
            } else if loaded != nil {
                Output.error(
                    "retrace: note: --state \(state) holds figures for other filters: folding the whole ledger, then replacing it"
                )
            }
        }
        var lastTrust: TrustState?
        let report: AuditReport
        do {
            report = try AuditedReading.read(
                db: db,
                trust: trust,
                label: "insights",
                since: since?.checkpoint
            ) { event in
                insights.add(event)
                lastTrust = event.trust
            }
        } catch let error as CLIError where since != nil {
            throw CLIError(
                error.exitCode,
                "\(error.message) (the figures in --state \(state ?? "") cover checkpoint \(since?.treeSize ?? 0); a ledger "
                    + "that does not extend that checkpoint is refused: delete the file to fold this ledger from the start)"
            )
        }
        let ledger = try LedgerAccess.openReadOnly(db)
        if let state, let note = try ledger.store.read({ try $0.checkpoint(size: report.treeSize) })?.note {
            do {
                try InsightsSnapshot(checkpoint: note, treeSize: report.treeSize, insights: insights).save(path: state)
            } catch {
                throw CLIError(CLIError.cannotCheck, "--state \(state) could not be written: \(error)")
            }
        }
        if lastTrust == nil, !scans.isEmpty { lastTrust = try ledger.trustState() }
        var dockScans: DockScans?
        if !scans.isEmpty {
            var tally = DockScans(filter: filter)
            for path in scans {
                let bytes = try LedgerAccess.readFile(path, what: "scan journal")
                tally.add(
                    journal: path,
                    lines: bytes.split(separator: 0x0a, omittingEmptySubsequences: false).map(Array.init),
                    trust: lastTrust ?? TrustState(trustRoots: []),
                    treeSize: report.treeSize
                )
            }
            dockScans = tally
        }
        var json = insights.json(treeSize: report.treeSize, root: Hex.encode(report.rootHash), scans: dockScans)
        if case .object(var object) = json {
            let resumedFrom: JSONValue = since.map { JSONValue.integer(Int64($0.treeSize)) } ?? .null
            let audited = JSONValue.integer(Int64(report.entriesChecked))
            object["run"] = .object(["resumedFrom": resumedFrom, "entriesAudited": audited])
            json = .object(object)
        }
        if output.json {
            try Output.json(json)
        } else {
            Output.print(Self.text(json, source: source))
            if let since {
                Output.print(
                    "\n(continued from --state: checkpoint \(since.treeSize), \(report.entriesChecked) new entries audited)"
                )
            }
        }
    }

    /// A day (`YYYY-MM-DD`, its midnight UTC) or a full Retrace time.
    static func time(_ text: String, option: String) throws -> Timestamp {
        let full = text.count == 10 ? text + "T00:00:00Z" : text
        do { return try Timestamp(parsing: full, field: option) } catch {
            throw CLIError.usage("\(option) \(text) is not a date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SSZ)")
        }
    }

    static func percent(_ basisPoints: JSONValue?) -> String {
        guard let value = basisPoints?.integerValue else { return "—" }
        return String(format: "%.1f%%", Double(value) / 100)
    }

    static func text(_ report: JSONValue, source: String) -> String {
        let returns = report["returns"]?.objectValue ?? JSONObject()
        var lines = [
            "Return insights of \(source) (audited: \(report["ledger"]?["treeSize"]?.integerValue ?? 0) entries)",
            "",
            "RETURNS  \(returns["returns"]?.integerValue ?? 0) of \(returns["sales"]?.integerValue ?? 0) sales "
                + "(\(percent(returns["rateBasisPoints"])))",
        ]
        for (title, member) in [
            ("by GTIN", "byGTIN"), ("by brand", "byBrand"), ("by retailer", "byRetailer"), ("by channel", "byChannel"),
            ("by month", "byMonth"),
        ] {
            lines.append("  \(title)")
            for row in returns[member]?.arrayValue ?? [] {
                let key = row["key"]?.stringValue ?? ""
                lines.append(
                    "    \(key.padding(toLength: 16, withPad: " ", startingAt: 0)) \(row["returns"]?.integerValue ?? 0) / "
                        + "\(row["sales"]?.integerValue ?? 0)  \(percent(row["rateBasisPoints"]))"
                )
            }
        }
        func counts(_ title: String, _ value: JSONValue?) {
            let object = value?.objectValue ?? JSONObject()
            let list = object.map { "\($0.key) \($0.value.integerValue ?? 0)" }.joined(separator: ", ")
            lines.append("  \(title): \(list.isEmpty ? "none" : list)")
        }
        counts("reasons", returns["reasons"])
        counts("by dock", returns["byDock"])
        counts("failed deliveries", returns["failedDeliveries"])
        let hours = returns["saleToReturnHours"]
        lines.append(
            "  sale to return: median \(hours?["median"]?.integerValue.map { "\($0) h" } ?? "—"), "
                + "p90 \(hours?["p90"]?.integerValue.map { "\($0) h" } ?? "—") (\(hours?["count"]?.integerValue ?? 0) returns)"
        )
        lines.append(
            "  after the return window: \(returns["afterWindow"]?.integerValue ?? 0); at another retailer: "
                + "\(returns["atAnotherRetailer"]?.integerValue ?? 0); trade-ins \(returns["tradeIns"]?.integerValue ?? 0); "
                + "lease returns \(returns["leaseReturns"]?.integerValue ?? 0)"
        )
        lines.append("")
        let recovery = report["recovery"]
        lines.append("RECOVERY")
        counts("outcomes", recovery?["outcomes"])
        let resale = recovery?["returnToResaleHours"]
        lines.append(
            "  return to resale: median \(resale?["median"]?.integerValue.map { "\($0) h" } ?? "—"), "
                + "p90 \(resale?["p90"]?.integerValue.map { "\($0) h" } ?? "—")"
        )
        lines.append("")
        lines.append("RECALLS")
        for recall in report["recalls"]?.arrayValue ?? [] {
            lines.append(
                "  \(recall["notice"]?.stringValue ?? "") lot \(recall["lot"]?.stringValue ?? ""): "
                    + "\(recall["affected"]?.integerValue ?? 0) affected, \(recall["remedied"]?.integerValue ?? 0) remedied, "
                    + "\(recall["notAffected"]?.integerValue ?? 0) not affected, \(recall["endOfLife"]?.integerValue ?? 0) "
                    + "taken out, \(recall["stillInField"]?.integerValue ?? 0) still in the field"
            )
        }
        if report["recalls"]?.arrayValue?.isEmpty ?? true { lines.append("  none") }
        lines.append("")
        let fraud = report["fraud"]
        lines.append("FRAUD SIGNALS (pseudonymous)")
        counts("stolen units resurfacing, by dock", fraud?["stolenResurfaced"]?["byDock"])
        lines.append("  lost units resurfacing: \(fraud?["lostResurfaced"]?.integerValue ?? 0)")
        lines.append("  serials returned again after a new sale: \(fraud?["serialsReturnedAgain"]?.integerValue ?? 0)")
        for returner in fraud?["repeatReturners"]?.arrayValue ?? [] {
            let retailers = (returner["retailers"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")
            lines.append(
                "  repeat returner \(returner["customerDigest"]?.stringValue?.prefix(12) ?? "")…: "
                    + "\(returner["returns"]?.integerValue ?? 0) returns at \(retailers)"
            )
        }
        if let scans = report["dockScans"], !scans.isNull {
            lines.append("")
            lines.append(
                "DOCK SCANS  \(scans["observations"]?.integerValue ?? 0) counted from \(scans["journals"]?.integerValue ?? 0) "
                    + "journal(s); \(scans["rejectedCount"]?.integerValue ?? 0) line(s) rejected"
            )
            counts("flagged", scans["signals"])
            for rejected in scans["rejected"]?.arrayValue ?? [] { lines.append("  ✗ \(rejected.stringValue ?? "")") }
        } else {
            lines.append(
                "  (scan-based signals — clones after end of life, double claims, mismatches, attempts out of "
                    + "window or at the wrong channel — need the docks' journals: --scans FILE)"
            )
        }
        return lines.joined(separator: "\n")
    }
}
