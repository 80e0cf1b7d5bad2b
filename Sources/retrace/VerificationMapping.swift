import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceVerification

enum VerificationMapping {
    /// Bundle and evidence failures are "checked and found false" (1); unreadable input is 2.
    static func cliError(_ error: VerificationError) -> CLIError {
        let cannot: Set<VerificationError.Code> = [.malformedBundle, .unsupportedFormat, .invalidScan, .storage]
        if cannot.contains(error.code) {
            return CLIError(CLIError.cannotCheck, "\(error.description); check the input file or identity")
        }
        if error.code == .notFound {
            return CLIError(CLIError.refused, "\(error.description); check the identity or the ledger")
        }
        return CLIError(CLIError.refused, "does not verify: \(error.description); do not trust this evidence")
    }

    static func verdictJSON(_ verdict: DockVerdict) -> JSONValue {
        .object([
            "verdict": .string(verdict.code.rawValue), "returnable": .bool(verdict.isReturnable),
            "message": .string(verdict.message), "reasons": .array(verdict.reasons.map { .string($0) }),
            "evidence": .array(verdict.evidence.map { .string($0) }), "product": .string(verdict.product),
            "passport": verdict.passport.map { .string($0) } ?? .null,
            "checkpointSize": verdict.checkpointSize.map { .integer(Int64($0)) } ?? .null,
            "disposition": verdict.suggestedDisposition.map { .string($0.rawValue) } ?? .null,
        ])
    }

    static func verdictText(_ verdict: DockVerdict) -> String {
        var rows: [(String, String)] = [("verdict", verdict.code.rawValue.uppercased()), ("product", verdict.product)]
        if let disposition = verdict.suggestedDisposition { rows.append(("next", disposition.rawValue)) }
        if let size = verdict.checkpointSize { rows.append(("checkpoint", "size \(size)")) }
        var text = Output.fields(rows) + "\n" + verdict.message
        for reason in verdict.reasons { text += "\n  - " + reason }
        if !verdict.evidence.isEmpty {
            text += "\nevidence: " + verdict.evidence.map { String($0.prefix(12)) }.joined(separator: " ")
        }
        return text
    }

    static func historyJSON(_ history: ProductHistory) -> JSONValue {
        .object([
            "product": .string(history.product), "gtin": .string(history.gtin), "serial": .string(history.serial),
            "passport": .string(history.passport), "phase": .string(history.phase),
            "brandOwner": .string(history.brandOwner),
            "checkpoint": .object([
                "origin": .string(history.checkpoint.origin), "treeSize": .integer(Int64(history.checkpoint.size)),
                "root": .string(history.checkpoint.rootHash),
            ]),
            "events": .array(
                history.events.map { event in
                    .object([
                        "index": .integer(Int64(event.index)), "event": .string(event.eventID),
                        "type": .string(event.type), "action": .string(event.action), "time": .string(event.time),
                        "received": .string(event.received), "location": event.location.map { .string($0) } ?? .null,
                        "party": .string(event.party.id), "partyName": .string(event.party.name),
                        "role": .string(event.party.role), "summary": .string(event.summary),
                        "phase": .string(event.phase),
                        "details": .object(JSONObject(event.details.map { ($0.key, JSONValue.string($0.value)) })),
                        "batch": event.batch.map {
                            .object([
                                "count": .integer($0.count), "root": .string($0.root),
                                "memberIndex": .integer(Int64($0.memberIndex)),
                            ])
                        } ?? .null,
                    ])
                }),
        ])
    }

    static func historyText(_ history: ProductHistory) -> String {
        var text = Output.fields([
            ("product", history.product), ("passport", history.passport), ("phase", history.phase),
            (
                "verified",
                "\(history.events.count) events against signed checkpoint \(history.checkpoint.size) "
                    + "(root \(history.checkpoint.rootHash.prefix(16))…)"
            ),
        ])
        text +=
            "\n\n"
            + Output.table(
                [["  #", "time", "where", "what"]]
                    + history.events.map { ["  \($0.index)", $0.time, $0.location ?? "-", $0.summary] })
        return text
    }

    static func recyclingJSON(_ proof: RecyclingProof) -> JSONValue {
        .object([
            "status": .string(proof.status.rawValue), "verified": .bool(proof.status == .verified),
            "message": .string(proof.message), "product": .string(proof.product),
            "recycleEvent": proof.recycleEvent.map { .string($0) } ?? .null,
            "laterEvent": proof.laterEvent.map { .string($0) } ?? .null,
            "certificate": proof.certificate.map { .string($0) } ?? .null,
            "recycler": proof.recycler.map { .string($0.id) } ?? .null,
            "accreditation": proof.accreditation.map {
                .object([
                    "scheme": .string($0.scheme), "certificate": .string($0.certificate),
                    "validFrom": .string($0.validFrom), "validUntil": .string($0.validUntil),
                ])
            } ?? .null,
            "recoveredGrams": proof.recoveredGrams.map { .integer($0) } ?? .null,
            "declaredGrams": proof.declaredGrams.map { .integer($0) } ?? .null,
            "massCheck": .string(proof.massCheck.rawValue),
            "reasons": .array(proof.reasons.map { .string($0) }),
        ])
    }
}
