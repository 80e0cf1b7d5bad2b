import ArgumentParser

/// The subcommands, in the order `retrace help` lists them.
enum RetraceCommands {
    static let all: [any ParsableCommand.Type] = [
        DemoCommand.self, InitCommand.self, KeygenCommand.self, RosterCommand.self, RecordCommand.self,
        AppendCommand.self, IdentifyCommand.self, ScanCommand.self, HistoryCommand.self, BundleCommand.self,
        VerifyBundleCommand.self, VerifyRecyclingCommand.self, CheckpointCommand.self, ProveCommand.self,
        AuditCommand.self, InsightsCommand.self, ExportCommand.self, TilesCommand.self, MigrateCommand.self,
        ImportCommand.self, ServeCommand.self, WitnessCommand.self, VerifyTlogProofCommand.self, MonitorCommand.self,
    ]
}
