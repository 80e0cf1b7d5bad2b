import RetraceCrypto
import RetraceWitness
import Testing

@Suite("Freshness: the witnessed time and --max-age")
struct FreshnessTests {
    let policy: WitnessPolicy
    let checkpoint = VectorFile.text("checkpoint.txt")

    init() throws { policy = try WitnessPolicy(parsing: VectorFile.text("policy.txt")) }

    @Test("times print in UTC to the minute, known answers")
    func minutes() {
        #expect(WitnessedCheckpoint.minuteUTC(0) == "1970-01-01T00:00Z")
        #expect(WitnessedCheckpoint.minuteUTC(1_800_000_000) == "2027-01-15T08:00Z")
        #expect(WitnessedCheckpoint.minuteUTC(951_782_400) == "2000-02-29T00:00Z")
    }

    @Test("durations parse with s, m, h, d and refuse anything else")
    func durations() {
        #expect(WitnessedCheckpoint.parseDuration("90s") == 90)
        #expect(WitnessedCheckpoint.parseDuration("15m") == 900)
        #expect(WitnessedCheckpoint.parseDuration("24h") == 86_400)
        #expect(WitnessedCheckpoint.parseDuration("7d") == 604_800)
        #expect(WitnessedCheckpoint.parseDuration("42") == 42)
        for bad in ["", "h", "-5m", "1.5h", "5w", "99999999999999999999d", "５m"] {
            #expect(WitnessedCheckpoint.parseDuration(bad) == nil, "\(bad)")
        }
    }

    /// With 2 of 3 needed, the checkpoint counts as witnessed when the second cosignature came:
    /// the older of the two newest, not the newest alone.
    @Test("the witnessed time of a 2-of-3 quorum is the time by which two witnesses had signed")
    func witnessedAt() throws {
        let note = try SignedNote(parsing: checkpoint)
        let early = try CosignerSigner(parsing: VectorFile.line("witness2.skey")).cosign(
            checkpointText: note.text,
            time: 1_000
        )
        let vector = try WitnessedCheckpoint(note: checkpoint, policy: policy)
        let times = vector.witnessings.map(\.time).sorted()
        #expect(vector.witnessedAt == times.first)
        // Adding a much older third cosignature does not make the checkpoint look older.
        let three = try WitnessedCheckpoint(note: checkpoint + early.line, policy: policy)
        #expect(three.witnessedAt == times.first)
        #expect(three.summary.hasSuffix("by 3 of 3"))
    }

    @Test("max-age: fresh within the limit, stale beyond it, with both times in the message")
    func maxAge() throws {
        let witnessed = try WitnessedCheckpoint(note: checkpoint, policy: policy)
        let at = try #require(witnessed.witnessedAt)
        try witnessed.requireFresh(now: at + 3_600, maxAge: 7_200)
        try witnessed.requireFresh(now: at - 60, maxAge: 1)  // a clock behind the witnesses' is not staleness
        do {
            try witnessed.requireFresh(now: at + 3 * 86_400 + 60, maxAge: 86_400)
            Issue.record("stale evidence accepted")
        } catch {
            #expect(error.code == .stale)
            #expect(
                error.reason.contains("3d 1m before") && error.reason.contains("maximum age is 1d"),
                "\(error.reason)"
            )
        }
    }
}
