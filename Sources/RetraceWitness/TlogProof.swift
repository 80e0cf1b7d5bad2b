import MerkleLog
import RetraceCrypto

/// A C2SP tlog-proof@v1 file: one entry's inclusion proof with the (cosigned) checkpoint it
/// leads to, verifiable offline with the entry, the log's key and a witness policy.
///
/// ```
/// c2sp.org/tlog-proof@v1
/// [extra <base64>]
/// index <n>
/// <base64 hash>...
///
/// <checkpoint note, signature lines included>
/// ```
public struct TlogProof: Sendable, Hashable {
    public static let header = "c2sp.org/tlog-proof@v1"

    /// Unauthenticated application data; never trusted.
    public let extra: [UInt8]?
    public let index: UInt64
    public let proof: [[UInt8]]
    /// The checkpoint as a transmitted signed note.
    public let checkpoint: String

    public init(extra: [UInt8]?, index: UInt64, proof: [[UInt8]], checkpoint: String) {
        self.extra = extra
        self.index = index
        self.proof = proof
        self.checkpoint = checkpoint
    }

    public var serialized: String {
        var out = Self.header + "\n"
        if let extra { out += "extra \(Base64.encode(extra))\n" }
        out += "index \(index)\n"
        for hash in proof { out += Base64.encode(hash) + "\n" }
        return out + "\n" + checkpoint
    }

    public init(parsing text: String) throws(WitnessError) {
        func fail(_ why: String) -> WitnessError { WitnessError(.malformedProof, why) }
        guard let blank = text.range(of: "\n\n") else {
            throw fail("no empty line between the proof and the checkpoint")
        }
        let head = text[..<blank.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
        guard head.first == Substring(Self.header) else { throw fail("the first line must be \(Self.header)") }
        var position = 1
        var extra: [UInt8]?
        if position < head.count, head[position].hasPrefix("extra ") {
            guard let bytes = Base64.decode(head[position].dropFirst(6)) else {
                throw fail("the extra line is not base64")
            }
            extra = bytes
            position += 1
        }
        guard position < head.count, head[position].hasPrefix("index ") else {
            throw fail("line \(position + 1) must be `index <n>`")
        }
        let digits = head[position].dropFirst(6)
        guard let index = UInt64(digits), String(index) == digits else {
            throw fail("index \"\(digits)\" is not a decimal without leading zeros")
        }
        var proof: [[UInt8]] = []
        for line in head[(position + 1)...] {
            guard let hash = Base64.decode(line), hash.count == 32 else {
                throw fail("proof line \(proof.count + 1) is not the base64 of a 32-byte hash")
            }
            proof.append(hash)
            guard proof.count <= 64 else { throw fail("more than 64 proof hashes") }
        }
        self.init(extra: extra, index: index, proof: proof, checkpoint: String(text[blank.upperBound...]))
    }

    /// Verifies the log's signature, the cosignatures and inclusion of `leafHash`; the caller
    /// decides whether a missing quorum is fatal (``WitnessedCheckpoint/requireQuorum()``).
    public func verify(
        leafHash: [UInt8],
        policy: WitnessPolicy,
        logKeys: [NoteVerifier]? = nil
    ) throws(WitnessError)
        -> WitnessedCheckpoint
    {
        let witnessed = try WitnessedCheckpoint(note: checkpoint, policy: policy, logKeys: logKeys)
        do {
            try MerkleProof.verifyInclusion(
                leafHash: leafHash,
                leafIndex: index,
                treeSize: witnessed.checkpoint.size,
                proof: proof,
                rootHash: witnessed.checkpoint.rootHash
            )
        } catch {
            throw WitnessError(.proofInvalid, "entry \(index): \(error.reason)")
        }
        return witnessed
    }
}
