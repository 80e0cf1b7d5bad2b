import RetraceCrypto

/// A C2SP tlog-policy: the logs a verifier accepts, the witnesses it knows, and the quorum of
/// witnesses whose cosignatures make a checkpoint count.
///
/// The same file serves the log (witness URLs: where to gather cosignatures), verifiers (keys and
/// quorum: whether to believe a checkpoint) and monitors. Names are opaque byte strings, groups
/// may only name what precedes them (so there are no cycles), and each name is a member at most
/// once per group, as the C2SP text requires.
public struct WitnessPolicy: Sendable {
    public struct Log: Sendable, Hashable {
        public let key: NoteVerifier
        public let url: String?
    }

    public struct Witness: Sendable, Hashable {
        public let name: String
        public let key: CosignerVerifier
        public let url: String?
    }

    /// A k-of-n group; members are witness or group names defined before it.
    public struct Group: Sendable, Hashable {
        public let name: String
        public let threshold: Int
        public let members: [String]

        public init(name: String, threshold: Int, members: [String]) {
            self.name = name
            self.threshold = threshold
            self.members = members
        }
    }

    public let logs: [Log]
    public let witnesses: [Witness]
    public let groups: [Group]
    /// The witness or group whose witnessing makes a checkpoint valid; `nil` for `quorum none`.
    public let quorum: String?

    /// The most logs, witnesses and groups one policy may define (C2SP recommends supporting 32).
    public static let limit = 256

    public init(parsing text: String) throws(WitnessError) {
        var logs: [Log] = []
        var witnesses: [Witness] = []
        var groups: [Group] = []
        var quorum: String??
        var names: Set<String> = []

        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            for byte in rawLine.utf8 where (byte < 0x20 && byte != 0x09) || byte == 0x7f {
                throw WitnessError(.malformedPolicy, "line \(number): control character 0x\(String(byte, radix: 16))")
            }
            let fields = rawLine.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let keyword = fields.first, !keyword.hasPrefix("#") else { continue }
            func fail(_ why: String) -> WitnessError {
                WitnessError(.malformedPolicy, "line \(number) (\(keyword)): \(why)")
            }
            switch keyword {
            case "log":
                guard fields.count == 2 || fields.count == 3 else { throw fail("expected `log <vkey> [<url>]`") }
                let key: NoteVerifier
                do { key = try NoteVerifier(parsing: fields[1]) } catch { throw fail(error.reason) }
                guard !logs.contains(where: { $0.key.publicKey == key.publicKey }) else {
                    throw fail("duplicate log key")
                }
                logs.append(Log(key: key, url: fields.count == 3 ? fields[2] : nil))
            case "witness":
                guard fields.count == 3 || fields.count == 4 else {
                    throw fail("expected `witness <name> <vkey> [<url>]`")
                }
                let key: CosignerVerifier
                do { key = try CosignerVerifier(parsing: fields[2]) } catch { throw fail(error.reason) }
                guard fields[1] != "none", !names.contains(fields[1]) else {
                    throw fail("name \"\(fields[1])\" is already defined")
                }
                guard !witnesses.contains(where: { $0.key.publicKey == key.publicKey }) else {
                    throw fail("duplicate witness key")
                }
                names.insert(fields[1])
                witnesses.append(Witness(name: fields[1], key: key, url: fields.count == 4 ? fields[3] : nil))
            case "group":
                guard fields.count >= 4 else { throw fail("expected `group <name> <all|any|k> <name>...`") }
                let name = fields[1]
                guard name != "none", !names.contains(name) else { throw fail("name \"\(name)\" is already defined") }
                let members = Array(fields[3...])
                guard Set(members).count == members.count else { throw fail("a member is listed twice") }
                for member in members where !names.contains(member) {
                    throw fail("member \"\(member)\" is not a witness or group defined on an earlier line")
                }
                let threshold: Int
                switch fields[2] {
                case "all": threshold = members.count
                case "any": threshold = 1
                default:
                    guard let k = Int(fields[2]), String(k) == fields[2], k >= 1, k <= members.count else {
                        throw fail("threshold \"\(fields[2])\" must be all, any or a decimal 1…\(members.count)")
                    }
                    threshold = k
                }
                names.insert(name)
                groups.append(Group(name: name, threshold: threshold, members: members))
            case "quorum":
                guard fields.count == 2 else { throw fail("expected `quorum <name>`") }
                guard quorum == nil else { throw fail("a policy has exactly one quorum line") }
                guard fields[1] == "none" || names.contains(fields[1]) else {
                    throw fail("\"\(fields[1])\" is not a witness or group defined on an earlier line")
                }
                quorum = .some(fields[1] == "none" ? nil : fields[1])
            default:
                throw fail("unknown keyword; expected log, witness, group or quorum")
            }
            guard logs.count + witnesses.count + groups.count <= Self.limit else {
                throw fail("more than \(Self.limit) logs, witnesses and groups")
            }
        }
        guard let quorum else { throw WitnessError(.malformedPolicy, "the policy has no quorum line") }
        self.logs = logs
        self.witnesses = witnesses
        self.groups = groups
        self.quorum = quorum
    }

    /// Whether the witnesses named in `witnessed` (policy names) satisfy the quorum.
    public func isSatisfied(by witnessed: Set<String>) -> Bool {
        guard let quorum else { return true }
        return isWitnessed(quorum, witnessed)
    }

    private func isWitnessed(_ name: String, _ witnessed: Set<String>) -> Bool {
        guard let group = groups.first(where: { $0.name == name }) else { return witnessed.contains(name) }
        return group.members.lazy.filter { isWitnessed($0, witnessed) }.count >= group.threshold
    }

    /// Describes the quorum for messages: "2 of 3 (majority)".
    public var quorumDescription: String {
        guard let quorum else { return "none" }
        guard let group = groups.first(where: { $0.name == quorum }) else { return "witness \(quorum)" }
        return "\(group.threshold) of \(group.members.count) (\(group.name))"
    }

    /// The log entry whose key name and key id match a signature line, if any.
    public func log(origin: String) -> [NoteVerifier] {
        logs.map(\.key).filter { $0.name == origin }
    }
}
