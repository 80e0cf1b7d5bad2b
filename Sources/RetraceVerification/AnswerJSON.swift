import CanonicalJSON

// The JSON shapes of verification answers, shared by the CLI's `--json` output and the HTTP API so
// the two can never drift apart (spec/cli.md and spec/openapi.yaml describe the same documents).

extension DockVerdict {
    public var json: JSONValue {
        let verdict = self
        var object: JSONObject = [
            "verdict": .string(verdict.code.rawValue), "returnable": .bool(verdict.isReturnable),
            "message": .string(verdict.message), "reasons": .array(verdict.reasons.map { .string($0) }),
            "evidence": .array(verdict.evidence.map { .string($0) }), "product": .string(verdict.product),
            "passport": verdict.passport.map { .string($0) } ?? .null,
            "checkpointSize": verdict.checkpointSize.map { .integer(Int64($0)) } ?? .null,
            "disposition": verdict.suggestedDisposition.map { .string($0.rawValue) } ?? .null,
        ]
        if let proof = verdict.absenceProof { object["absenceProof"] = .string(proof) }
        return .object(object)
    }
}

extension ProductHistory {
    public var json: JSONValue {
        let history = self
        return .object([
            "product": .string(history.product), "gtin": .string(history.gtin), "serial": .string(history.serial),
            "passport": .string(history.passport), "phase": .string(history.phase),
            "brandOwner": .string(history.brandOwner),
            "productClass": history.productClass.map { productClass in
                var object: JSONObject = [
                    "name": .string(productClass.name), "event": .string(productClass.event),
                    "index": .integer(Int64(productClass.index)), "party": .string(productClass.party),
                ]
                if let model = productClass.model { object["model"] = .string(model) }
                if let image = productClass.image {
                    object["image"] = .object(["url": .string(image.url), "sha256": .string(image.sha256)])
                }
                if let mass = productClass.massGrams { object["massGrams"] = .integer(mass) }
                if let materials = productClass.materials {
                    object["materials"] = .object(JSONObject(materials.map { ($0.key, JSONValue.integer($0.value)) }))
                }
                return .object(object)
            } ?? .null,
            "completeness": .string(history.completeness),
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
                }
            ),
        ])
    }
}

extension RecyclingProof {
    public var json: JSONValue {
        let proof = self
        return .object([
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
