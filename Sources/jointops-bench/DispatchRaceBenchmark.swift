import Foundation
import JointOpsCore
import JointOpsProtocol
import Synchronization

/// `jointops-bench dispatch-race`: the real jointopsd with the sample jurisdiction and a
/// roster of 100 armed SWAT teams (and nothing else); 1,000 armed responses are dispatched
/// at once over 64 connections, each asking for 2 SWAT teams. Checks that no unit is
/// committed twice (every operation's units against every other's and against the roster)
/// and prints the time the dispatches took.
enum DispatchRaceBenchmark {
    static func run(root: URL, operations: Int, units: Int) throws {
        let daemon = try BenchDaemon(name: "race")
        defer { daemon.remove() }
        let socket = daemon.socket
        let roster = daemon.folder.appendingPathComponent("units.csv")
        let districts = ["hexi", "heping", "nankai", "hebei", "hedong", "hongqiao", "dongli", "xiqing", "binhai"]
        var csv = "id,call_sign,branch,home_region,capabilities\n"
        for index in 0..<units { csv += "swat-\(index),SWAT \(index),swat,\(districts[index % districts.count]),armed\n" }
        try csv.write(to: roster, atomically: true, encoding: .utf8)
        try daemon.start([
            "--config", "/dev/null", "--workflows", root.appendingPathComponent("Workflows").path, "--regions",
            root.appendingPathComponent("Regions/tianjin.yaml").path, "--units", roster.path, "--log-level", "warning",
        ])
        try DaemonBenchmark.parallel(16) { worker in
            let client = try VarlinkClient(socketPath: socket)
            for index in stride(from: worker, to: operations, by: 16) {
                let region = districts[index % districts.count]
                let started = try client.call(
                    "io.jointops.Operations.Start",
                    [
                        "workflow": .string("armed-response"), "region": .string(region), "id": .string("R-\(index)"),
                        "attributes": .object([
                            "incident_type": .string("armed_robbery"), "priority": .string("P1"), "weapon_involved": .string("true"),
                        ]),
                    ])
                precondition(started.error == nil, "\(started)")
                let assessed = try client.call("io.jointops.Operations.Fire", ["id": .string("R-\(index)"), "event": .string("assess")])
                precondition(assessed.error == nil, "\(assessed)")
            }
        }
        let began = Date()
        try DaemonBenchmark.parallel(64) { worker in
            let client = try VarlinkClient(socketPath: socket)
            for index in stride(from: worker, to: operations, by: 64) {
                let reply = try client.call("io.jointops.Operations.Fire", ["id": .string("R-\(index)"), "event": .string("dispatch")])
                precondition(reply.error == nil, "\(reply)")
            }
        }
        let elapsed = Date().timeIntervalSince(began)
        let client = try VarlinkClient(socketPath: socket)
        var holder: [String: String] = [:]
        var twice = 0
        var awaiting = 0
        for index in 0..<operations {
            let shown = try client.call("io.jointops.Operations.Show", ["id": .string("R-\(index)")])
            for branch in shown.parameters["operation"]?["branches"]?.arrayValue ?? [] where branch["branch"] == .string("swat") {
                awaiting += Int(branch["awaitingUnits"]?.intValue ?? 0)
                for unit in (branch["assignedUnits"]?.arrayValue ?? []).compactMap(\.stringValue) {
                    if holder[unit] != nil { twice += 1 }
                    holder[unit] = "R-\(index)"
                }
            }
        }
        var disagreements = 0
        for unit in try client.call("io.jointops.Units.List").parameters["units"]?.arrayValue ?? [] {
            if unit["operation"]?.stringValue != holder[unit["id"]?.stringValue ?? ""] { disagreements += 1 }
        }
        print(
            String(
                format:
                    "dispatch-race: %d dispatches at once over 64 connections for %d SWAT units: %.2f s (%.0f dispatches/s); %d units committed, %d SWAT units awaited; committed twice: %d; roster disagreeing with operations: %d",
                operations, units, elapsed, Double(operations) / elapsed, holder.count, awaiting, twice, disagreements))
        precondition(twice == 0 && disagreements == 0, "a unit was committed twice")
    }
}
