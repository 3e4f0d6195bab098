import ArgumentParser
import JointOpsCore

/// `jointopsctl metrics`: the daemon's metrics, as Prometheus would scrape them.
struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the daemon's metrics in the Prometheus text format (needs the view role).",
        discussion: """
            Open operations by phase and region, active branches, late steps, commands by method and result, \
            escalations, missed deadlines, and histograms of command latency, commit batch size, commit wait and \
            transaction time — every name \
            starts with jointops_. The same text is served at http://HOST:PORT/metrics when jointopsd runs with \
            --metrics-listen (or metrics_listen in its configuration); see the README.
            """)
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        let reply = try Session(options: connection).call("io.jointops.Admin.Metrics", [:], lines: ["text"])
        if connection.json { return print(JSONValue.object(reply).canonical) }
        print(reply["text"]?.stringValue ?? "", terminator: "")
    }
}
