/// The stable ids of the trust (`T…`) and lifecycle (`L…`) rules, as written in
/// `spec/roster.md` and `spec/lifecycle.md`.
///
/// Ids never change meaning once published: a new rule gets a new number, a retired one keeps its
/// number unused, so logs and error reports stay readable across versions.
public enum Rule {
    // Trust roster (spec/roster.md).
    public static let rosterChain = "T1 roster-chain"
    public static let rosterGoverned = "T2 roster-governed"
    public static let rosterValid = "T3 roster-valid"
    public static let revocationsPermanent = "T4 revocations-permanent"
    public static let rosterTime = "T5 roster-time"
    public static let knownKey = "T6 known-key"
    public static let keyValidity = "T7 key-validity"
    public static let keyRevocation = "T8 key-revocation"
    public static let signature = "T9 signature"
    public static let signerSite = "T10 signer-site"

    // Lifecycle (spec/lifecycle.md).
    public static let commissionedFirst = "L1 commissioned-first"
    public static let commissionOnce = "L2 commission-once"
    public static let role = "L3 role"
    public static let ownPrefix = "L4 own-prefix"
    public static let stateTable = "L5 state-table"
    public static let returnNeedsSale = "L6 return-needs-sale"
    public static let terminal = "L7 terminal"
    public static let timeOrder = "L8 time-order"
    public static let recallRestricts = "L9 recall-restricts"
    public static let recallOverlay = "L10 recall-overlay"
    public static let missingRestricts = "L11 missing-restricts"
    public static let wrongChannel = "L12 wrong-channel"
    public static let details = "L13 details"
    public static let referencesMatch = "L14 references-match"
    public static let restockCondition = "L15 restock-condition"
    public static let accreditation = "L16 accreditation"
    public static let certifiedResale = "L17 certified-resale"
    public static let dockScan = "L18 dock-scan"
    public static let warrantyRepairFirst = "L19 warranty-repair-first"
    public static let massBalance = "L20 mass-balance"
    public static let receiveByConsignee = "L21 receive-by-consignee"
    public static let statementProduct = "L22 statement-product"
}
