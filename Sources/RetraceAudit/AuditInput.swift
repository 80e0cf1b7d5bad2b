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

    /// Nothing prepared: what a judged entry leaves behind when it is moved out of its chunk.
    init() {}

    /// Parses and authenticates one entry. Pure: runs on any worker thread. The raw entry is
    /// consumed: its buffers move into the prepared entry rather than being retained again.
    init(preparing raw: consuming RawEntry, trust: TrustState) {
        self.init()
        prepare(consume raw, trust: trust)
    }

    /// Fills an empty entry in place. A function that built a local and returned it copied the
    /// local into its result, one retain and one release of each of its dozen buffers per audited
    /// entry (issue 15); an initializer assigning its members with early returns did the same.
    private mutating func prepare(_ raw: consuming RawEntry, trust: TrustState) {
        var members: [BatchMember] = []
        switch consume raw {
        case .stored(let stored):
            claimedIndex = stored.index
            bytes = stored.bytes
            let memberBytes = stored.members
            self.stored = stored
            guard parseMembers(memberBytes, into: &members) else { return }
        case .tiled(let index, let bytes, let tiledMembers):
            claimedIndex = index
            self.bytes = bytes
            guard parseMembers(tiledMembers, into: &members) else { return }
        case .unreadable(let index, let storedLeafHash, let reason):
            claimedIndex = index
            leafHash = storedLeafHash.count == 32 ? storedLeafHash : MerkleHash.leafHash([])
            problem = Problem(rule: AuditRule.entryFormat, reason: "the stored entry cannot be read: \(reason)")
            return
        case .exportLine(let line):
            do {
                let parsed = try ExportLine.entry(line)
                claimedIndex = parsed.index
                bytes = parsed.entryBytes
                members = parsed.members
            } catch {
                bytes = line
                leafHash = MerkleHash.leafHash(line)
                problem = Problem(rule: error.rule, reason: error.reason)
                return
            }
        }
        leafHash = MerkleHash.leafHash(bytes)
        do {
            let entry = try LogEntry(parsing: bytes, members: members)
            if entry.statement.type != .roster {
                authentication = Result { () throws(RuleViolation) in try trust.authenticate(entry.signed) }
            }
            self.entry = entry
        } catch {
            let rule = error.field.hasPrefix("members") ? AuditRule.batchMembers : AuditRule.entryFormat
            problem = Problem(rule: rule, reason: "the entry does not parse strictly: \(error)")
        }
    }

    /// Parses a stored or tiled entry's batch members strictly; on the first malformed one, notes
    /// the problem and the leaf hash of ``bytes`` and returns false.
    private mutating func parseMembers(_ memberBytes: [[UInt8]], into members: inout [BatchMember]) -> Bool {
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
                leafHash = MerkleHash.leafHash(self.bytes)
                problem = Problem(
                    rule: AuditRule.batchMembers,
                    reason: "stored batch member \(position) is malformed: \(error)"
                )
                return false
            }
        }
        return true
    }
}
