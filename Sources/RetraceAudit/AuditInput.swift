import CanonicalJSON
import MerkleLog
import RetraceEvents
import RetraceRules
import RetraceStorage

/// One item of the stream an audit consumes, in log order: an entry, or a checkpoint stored
/// after the entries it covers.
enum AuditInput: Sendable {
    case entry(RawEntry)
    /// `stored` carries the SQLite columns beside the note, to be compared with it.
    case checkpoint(note: String, stored: StoredCheckpoint?)

    /// Whether this is a stored entry whose `type` column says roster: a hint for scheduling only,
    /// since an audit believes nothing stored.
    var isStoredRoster: Bool {
        if case .entry(.stored(let stored)) = self { stored.type == EventType.roster.name } else { false }
    }
}

/// An entry as read, before any parsing: the SQLite row, one export line, or the leaf bytes of an
/// entry bundle with the members a tile host publishes beside it.
enum RawEntry: Sendable {
    case stored(StoredEntry)
    case exportLine([UInt8])
    case tiled(index: UInt64, bytes: [UInt8], members: [[UInt8]])
    /// A stored entry whose value cannot be read back (``StorageError/unreadableEntry``): reported
    /// at its index, the tree carried on with the leaf hash stored beside it, which the next
    /// checkpoint's root judges.
    case unreadable(index: UInt64, storedLeafHash: [UInt8], reason: String)
}

/// An entry after the parallel phase: parsed, hashed and (for events) authenticated against the
/// trust state in force at the start of its chunk.
struct PreparedEntry: Sendable {
    struct Problem: Sendable {
        let rule: String
        let reason: String
    }

    var claimedIndex: UInt64?
    /// The leaf input as the auditor hashes it.
    var bytes: [UInt8] = []
    var leafHash: [UInt8] = []
    var stored: StoredEntry?
    var entry: LogEntry?
    var problem: Problem?
    var authentication: Result<Party, RuleViolation>?

    /// Parses and authenticates one entry. Pure: runs on any worker thread.
    static func prepare(_ raw: RawEntry, trust: TrustState) -> PreparedEntry {
        var prepared = PreparedEntry()
        var members: [BatchMember] = []
        switch raw {
        case .stored, .tiled:
            let memberBytes: [[UInt8]]
            if case .stored(let stored) = raw {
                prepared.stored = stored
                prepared.claimedIndex = stored.index
                prepared.bytes = stored.bytes
                memberBytes = stored.members
            } else if case .tiled(let index, let bytes, let tiledMembers) = raw {
                prepared.claimedIndex = index
                prepared.bytes = bytes
                memberBytes = tiledMembers
            } else {
                memberBytes = []
            }
            for (position, bytes) in memberBytes.enumerated() {
                do {
                    let member = try BatchMember(
                        json: CanonicalJSON.decode(bytes, options: .strict),
                        path: "members[\(position)]"
                    )
                    guard member.canonicalBytes == bytes else {
                        throw FormatError(.notCanonical, field: "members[\(position)]", "not in canonical form")
                    }
                    members.append(member)
                } catch {
                    prepared.leafHash = MerkleHash.leafHash(prepared.bytes)
                    prepared.problem = Problem(
                        rule: AuditRule.batchMembers,
                        reason: "stored batch member \(position) is malformed: \(error)"
                    )
                    return prepared
                }
            }
        case .unreadable(let index, let storedLeafHash, let reason):
            prepared.claimedIndex = index
            prepared.leafHash = storedLeafHash.count == 32 ? storedLeafHash : MerkleHash.leafHash([])
            prepared.problem = Problem(
                rule: AuditRule.entryFormat,
                reason: "the stored entry cannot be read: \(reason)"
            )
            return prepared
        case .exportLine(let line):
            do {
                let parsed = try ExportLine.entry(line)
                prepared.claimedIndex = parsed.index
                prepared.bytes = parsed.entryBytes
                members = parsed.members
            } catch {
                prepared.bytes = line
                prepared.leafHash = MerkleHash.leafHash(line)
                prepared.problem = Problem(rule: error.rule, reason: error.reason)
                return prepared
            }
        }
        prepared.leafHash = MerkleHash.leafHash(prepared.bytes)
        do {
            let entry = try LogEntry(parsing: prepared.bytes, members: members)
            prepared.entry = entry
            if entry.statement.type != .roster {
                prepared.authentication = Result { () throws(RuleViolation) in try trust.authenticate(entry.signed) }
            }
        } catch {
            let rule = error.field.hasPrefix("members") ? AuditRule.batchMembers : AuditRule.entryFormat
            prepared.problem = Problem(rule: rule, reason: "the entry does not parse strictly: \(error)")
        }
        return prepared
    }
}
