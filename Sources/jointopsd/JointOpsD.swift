import ArgumentParser
import Foundation
import JointOpsCore
import JointOpsDaemon
import JointOpsProtocol
import Logging

/// `jointopsd`: the jointops daemon. Settings come from the configuration file, then flags.
@main
struct JointOpsD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jointopsd",
        abstract: "Run the jointops daemon: operations as durable state machines behind a Varlink control socket.",
        discussion: """
            Exit codes: 0 stopped (SIGTERM, SIGINT); 1 a failure a restart may mend (a crash, a full disk, another \
            jointopsd on the socket or the state directory): the unit restarts it; 64 a mistake in the command line; \
            78 a mistake in the configuration file or a file it names, a metrics_listen it cannot listen on, a state \
            directory or database it may not use, or a damaged one. The unit restarts on neither 64 nor 78 \
            (docs/configuration.md, "Mistakes stop the start").
            """,
        version: Release.version
    )

    /// As ArgumentParser's own, but a usage error (exit 64, which the unit does not restart
    /// on either) is also said in `systemctl status`: under systemd the command line is the
    /// unit's, and stderr, where the usage goes, is only in the journal.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
                let reason = "usage error in jointopsd's command line: \(message)"
                Systemd.notify(
                    "STATUS=\(reason) — correct ExecStart= in a drop-in (systemctl edit jointopsd; systemctl cat jointopsd shows it), then: systemctl restart jointopsd"
                )
                StartRefusal.answerWaiting(
                    with: StartRefusal.error(
                        problems: [reason],
                        fix:
                            "Correct ExecStart= in a drop-in (systemctl edit jointopsd; systemctl cat jointopsd shows it), then: \(StartRefusal.restartAdvice)"
                    ))
            }
            exit(withError: error)
        }
    }

    /// Notes the clients told `DaemonCannotStart` (see `StartRefusal`).
    static func log(answered: Int, _ logger: Logger) {
        guard answered > 0 else { return }
        logger.notice(
            "answered \(answered) connection\(answered == 1 ? "" : "s") waiting in the socket: jointopsd cannot start (io.jointops.Operations.DaemonCannotStart); once it is fixed: \(StartRefusal.restartAdvice)"
        )
    }

    @Option(help: "Configuration file (YAML); missing is fine for the default path.")
    var config: String = DaemonConfiguration.defaultFile

    @Option(help: "Directory for the SQLite state.")
    var stateDirectory: String?

    @Option(help: "Path of the control socket.")
    var socket: String?

    @Option(help: "Directory of workflow definitions.")
    var workflows: String?

    @Option(help: "Jurisdiction tree (YAML); default /etc/jointops/regions.yaml, see docs/regions.md.")
    var regions: String?

    @Option(help: "Unit roster (YAML or CSV) imported at start when the store has no unit yet.")
    var units: String?

    @Option(help: "full (default) or normal; see docs/storage.md.")
    var durability: String?

    @Option(
        help: ArgumentHelp(
            "Serve GET /metrics over HTTP on this loopback HOST:PORT (e.g. 127.0.0.1:9464); off by default.",
            discussion: "Only 127.0.0.0/8 and [::1] are accepted: the listener has no authentication and no TLS."))
    var metricsListen: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical; overrides log_level in the configuration file (default info).")
    var logLevel: String?

    func run() async throws {
        // The flags' values first, each checked as the file's setting is: a mistake in one is a
        // mistake in the command line (exit 64, usage), said before the file is read or anything starts.
        for (flag, value) in [
            ("--state-directory", stateDirectory), ("--socket", socket), ("--workflows", workflows), ("--regions", regions),
            ("--units", units), ("--metrics-listen", metricsListen),
        ] {
            guard let value else { continue }
            if value.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError(
                    "\(flag) is empty; give it a value, or leave the flag out for the configuration file's or the default")
            }
            // As in the file: a path with a NUL was cut at it by the system calls.
            if value.containsControlCharacter {
                throw ValidationError("\(flag) holds a control character (a NUL, tab or line break); give the path without it")
            }
        }
        let level = try logLevel.map { name in
            guard let level = Logger.Level(rawValue: name) else {
                throw ValidationError(DaemonConfiguration.logLevelMistake(name, setting: "--log-level"))
            }
            return level
        }
        let mode = try durability.map { name in
            guard let mode = StoreDurability(rawValue: name) else {
                throw ValidationError(
                    "--durability is '\(name)'; it must be full or normal — full syncs each commit before answering; see docs/storage.md before choosing normal"
                )
            }
            return mode
        }
        if let socket, let mistake = DaemonConfiguration.socketPathMistake(socket, setting: "--socket") {
            throw ValidationError(mistake)
        }
        // Well-formed and on loopback, it may still not be had (a port taken): that stops the start later, as 78.
        if let metricsListen {
            do { _ = try MetricsListenAddress(parsing: metricsListen) } catch { throw ValidationError("--metrics-listen: \(error)") }
        }
        // Under systemd, structured entries straight to the journal; elsewhere, lines on stderr.
        let journal = Systemd.stderrIsJournal
        var logger = Logger(label: "jointopsd") { label in
            journal
                ? JournalLogHandler(label: label) as any LogHandler
                : EscapingLogHandler(wrapping: StreamLogHandler.standardError(label: label))
        }
        var settings = DaemonConfiguration()
        do {
            if FileManager.default.fileExists(atPath: config) {
                try settings.apply(file: config)
            } else if config != DaemonConfiguration.defaultFile {
                throw DaemonError("no configuration file at \(config); create it, or pass --config with the right path")
            }
        } catch {
            // A mistake in the file cannot mend itself: say so where an administrator looks
            // (the journal at error level, `systemctl status`) and exit 78 (EX_CONFIG), which
            // the unit does not restart on.
            let problems = "\(error)".split(separator: "\n").map(String.init)
            for problem in problems { logger.error("\(problem)") }
            // Clients waiting in systemd's socket are told why, rather than left to start it
            // again and again; one did, so the restart needs the failed state reset first.
            let answered = StartRefusal.answerWaiting(with: StartRefusal.error(problems: problems, file: config))
            Self.log(answered: answered, logger)
            let again = answered > 0 ? StartRefusal.restartAdvice : journal ? "systemctl restart jointopsd" : "start jointopsd again"
            let what =
                FileManager.default.fileExists(atPath: config)
                ? "\(problems.count == 1 ? "a mistake" : "\(problems.count) mistakes") in \(config); correct it"
                : "no configuration file; create it"
            logger.critical("jointopsd does not start: \(what), then: \(again)")
            Systemd.notify("STATUS=configuration error in \(config): \(problems.first ?? "") — correct it, then \(again)")
            throw ExitCode(78)
        }
        if let stateDirectory { settings.stateDirectory = stateDirectory }
        if let socket { settings.socketPath = socket }
        if let workflows { settings.workflowsDirectory = workflows }
        if let metricsListen { settings.metricsListen = metricsListen }
        if let regions {
            settings.regionsFile = regions
            settings.regionsFileIsExplicit = true
        }
        if let units { settings.unitsFile = units }
        if let mode { settings.durability = mode }
        logger.logLevel = level ?? settings.logLevel
        do {
            try await Daemon.run(settings, logger: logger)
        } catch let error as DaemonError where error.isConfiguration {
            logger.critical("jointopsd does not start: \(error)")
            let problems = "\(error)".split(separator: "\n").map(String.init)
            Self.log(answered: StartRefusal.answerWaiting(with: StartRefusal.error(problems: problems)), logger)
            throw ExitCode(78)
        } catch {
            logger.critical("jointopsd cannot run: \(error)")
            throw ExitCode(1)
        }
    }
}
