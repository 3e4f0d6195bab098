import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// The workflows directory at start and on Reload: invalid files are logged as errors with
/// their FILE:LINE:COLUMN problems and left out (the daemon starts with the valid ones),
/// hidden files are not read at all.
@Suite(.serialized) struct WorkflowLoadingTests {
    static let armedResponse = DaemonHarness.root.appendingPathComponent("Workflows/armed-response.yaml")

    /// A workflows folder in /tmp with these files (text or bytes), removed when done.
    final class WorkflowsFolder {
        let url = URL(fileURLWithPath: "/tmp/jointops-workflows-\(getpid())-\(UUID().uuidString.prefix(6))")
        init(_ files: [String: Data]) throws {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            for (name, contents) in files { try contents.write(to: url.appendingPathComponent(name)) }
        }
        func path(_ name: String) -> String { url.appendingPathComponent(name).path }
        deinit { try? FileManager.default.removeItem(at: url) }
    }

    static let armed = try! Data(contentsOf: armedResponse)
    /// "workflow: café" in Latin-1.
    static let latin1 = Data(Array("workflow: caf".utf8) + [0xE9, 0x0A])

    /// The log's lines at error level.
    static func errors(_ daemon: DaemonHarness) -> [Substring] {
        daemon.log.split(separator: "\n").filter { $0.contains(" error jointopsd:") }
    }

    @Test func invalidFilesAreLoggedAsErrorsAndSkippedAndHiddenOnesAreNotRead() throws {
        let folder = try WorkflowsFolder([
            "armed-response.yaml": Self.armed, "copy.yaml": Self.armed, "latin1.yaml": Self.latin1,
            ".hidden.yaml": Data("garbage: [\n".utf8), ".armed-response.yaml.swp.yml": Data("\u{0}\u{1}".utf8),
        ])
        let daemon = try DaemonHarness(workflows: folder.url.path, regions: nil)
        let errors = Self.errors(daemon)
        #expect(
            errors.contains {
                $0.hasSuffix(
                    "\(folder.path("latin1.yaml")):1:14: error: not UTF-8 text: byte 0xE9 here is not part of a UTF-8 character; save the file as UTF-8 (it was perhaps saved as GBK or Latin-1)"
                )
            },
            "\(errors)")
        #expect(
            errors.contains {
                $0.contains("\(folder.path("copy.yaml")):")
                    && $0.contains("workflow id 'armed-response' is already taken by \(folder.path("armed-response.yaml")):")
            }, "\(errors)")
        #expect(
            errors.contains {
                $0.contains("1 workflow loaded, 2 invalid files skipped (\(folder.path("copy.yaml")), \(folder.path("latin1.yaml")))")
            },
            "\(errors)")
        #expect(!daemon.log.contains(".hidden.yaml") && !daemon.log.contains(".swp"), "hidden files are not read")
        // Reload, too, leaves hidden files alone: with the invalid ones gone it succeeds.
        try FileManager.default.removeItem(atPath: folder.path("copy.yaml"))
        try FileManager.default.removeItem(atPath: folder.path("latin1.yaml"))
        let reload = try daemon.call("io.jointops.Admin.Reload")
        #expect(reload.error == nil, "\(reload)")
    }

    /// Reproducer: a FIFO named `*.yaml` in the folder held the start, or a reload and the
    /// engine with it, until something wrote to it.
    @Test func aFIFOInTheFolderIsSkippedNotWaitedOn() throws {
        let folder = try WorkflowsFolder(["armed-response.yaml": Self.armed])
        #expect(mkfifo(folder.path("zz-pipe.yaml"), 0o644) == 0)
        let daemon = try DaemonHarness(workflows: folder.url.path, regions: nil)
        let errors = Self.errors(daemon)
        #expect(
            errors.contains { $0.contains("\(folder.path("zz-pipe.yaml")):1:1: error: cannot read the file: it is a FIFO (named pipe)") },
            "\(errors)")
        try daemon.startArmed("OP-FIFO")
        // A reload answers at once, refused while the pipe is there, instead of hanging.
        let client = try VarlinkClient(socketPath: daemon.socket, timeout: .seconds(5))
        let reload = try client.call("io.jointops.Admin.Reload")
        #expect(reload.error == "io.jointops.Admin.ReloadFailed", "\(reload)")
        #expect(try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-FIFO")]).error == nil)
    }

    @Test func aWorkflowChangedWithoutANewVersionIsRefusedAtItsVersionLine() throws {
        let folder = try WorkflowsFolder(["armed-response.yaml": Self.armed])
        let daemon = try DaemonHarness(workflows: folder.url.path, regions: nil)
        let text = String(decoding: Self.armed, as: UTF8.self)
        try (text + "# changed\n").write(toFile: folder.path("armed-response.yaml"), atomically: true, encoding: .utf8)
        let reload = try daemon.call("io.jointops.Admin.Reload")
        #expect(reload.error == "io.jointops.Admin.ReloadFailed")
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("version:") }! + 1
        let problems = items(reload.parameters["problems"]).compactMap(\.stringValue)
        #expect(
            problems
                == [
                    "\(folder.path("armed-response.yaml")):\(line):1: error: workflow 'armed-response' version 2 is already stored with different content; bump 'version' in the file so running operations keep the version they started with"
                ])
        // Reproducer (a chaos soak): at a restart (a crash, say) the refused file left the
        // workflow out altogether — here the only one, so jointopsd did not start at all.
        // The version stored last runs, as before the restart, and the journal says why.
        try daemon.restart()
        let loaded = items(try daemon.call("io.jointops.Operations.Workflows").parameters["workflows"])
        #expect(loaded.map { $0["id"] } == [.string("armed-response")] && loaded.map { $0["version"] } == [.int(2)], "\(loaded)")
        #expect(try daemon.startArmed("OP-AFTER").error == nil)
        #expect(
            daemon.log.contains(
                "different content; bump 'version' in the file so running operations keep the version they started with; jointopsd runs the stored version 2 of 'armed-response', the last one loaded, until the file has a higher version and is reloaded (jointopsctl admin reload)"
            ), "\(daemon.log)")
    }

    @Test func withNoValidWorkflowTheDaemonStopsAndSaysWhy() throws {
        let folder = try WorkflowsFolder(["latin1.yaml": Self.latin1, ".hidden.yaml": Self.armed])
        #expect {
            _ = try DaemonHarness(workflows: folder.url.path, regions: nil)
        } throws: { error in
            "\(error)".contains("no valid workflow in \(folder.url.path) (1 file checked)")
                && "\(error)".contains("\(folder.path("latin1.yaml")):1:14: error: not UTF-8 text")
        }
    }

    @Test func aReloadThatFindsNoValidWorkflowListsEachProblemOnItsOwn() throws {
        let folder = try WorkflowsFolder(["armed-response.yaml": Self.armed])
        let daemon = try DaemonHarness(workflows: folder.url.path, regions: nil)
        try Self.latin1.write(to: folder.url.appendingPathComponent("armed-response.yaml"))
        let reload = try daemon.call("io.jointops.Admin.Reload")
        #expect(reload.error == "io.jointops.Admin.ReloadFailed")
        let problems = items(reload.parameters["problems"]).compactMap(\.stringValue)
        #expect(problems.count == 2, "\(problems)")
        #expect(problems.first?.hasPrefix("no valid workflow in \(folder.url.path) (1 file checked)") == true)
        #expect(
            problems.last
                == "\(folder.path("armed-response.yaml")):1:14: error: not UTF-8 text: byte 0xE9 here is not part of a UTF-8 character; save the file as UTF-8 (it was perhaps saved as GBK or Latin-1)"
        )
        #expect(try daemon.call("io.jointops.Operations.Workflows").error == nil, "the loaded workflows stay")
    }

    @Test func anEmptyWorkflowsFolderIsSaidToBeEmpty() throws {
        let folder = try WorkflowsFolder([".hidden.yaml": Self.armed, "notes.txt": Data("x".utf8)])
        #expect {
            _ = try DaemonHarness(workflows: folder.url.path, regions: nil)
        } throws: { error in
            "\(error)".contains(
                "the workflows folder \(folder.url.path) has no workflow file (.yaml or .yml) — put the workflow definitions in it")
        }
    }

    @Test func aReloadSaysWhatItAddedChangedAndRemoved() throws {
        let fraud = try Data(contentsOf: DaemonHarness.root.appendingPathComponent("Workflows/telecom-fraud.yaml"))
        let folder = try WorkflowsFolder(["armed-response.yaml": Self.armed, "telecom-fraud.yaml": fraud])
        let daemon = try DaemonHarness(workflows: folder.url.path, regions: nil)
        unlink(folder.path("telecom-fraud.yaml"))
        let newer = String(decoding: Self.armed, as: UTF8.self).replacingOccurrences(of: "\nversion: 2 ", with: "\nversion: 3 ")
        try newer.write(toFile: folder.path("armed-response.yaml"), atomically: true, encoding: .utf8)
        #expect(newer != String(decoding: Self.armed, as: UTF8.self))
        let reload = try daemon.call("io.jointops.Admin.Reload")
        #expect(reload.error == nil, "\(reload)")
        #expect(items(reload.parameters["removed"]) == [.string("telecom-fraud")])
        #expect(
            items(reload.parameters["changes"]).compactMap(\.stringValue) == [
                "armed-response v2 → v3",
                "telecom-fraud removed (its running operations keep their version; new ones cannot start)",
            ])
        #expect(daemon.log.contains("reloaded 1 workflows from \(folder.url.path); armed-response v2 → v3; telecom-fraud removed"))
    }

    /// Reproducer: `armed-response` v2 → v1 was accepted, new operations then starting on an
    /// older version than the running ones. A version lower than one stored is refused at its
    /// `version:` line, the file of the stored v1 put back as it was included, and v2 stays.
    @Test func aReloadRefusesAVersionLowerThanOneStored() throws {
        let text = String(decoding: Self.armed, as: UTF8.self)
        let first = text.replacingOccurrences(of: "\nversion: 2 ", with: "\nversion: 1 ")
        #expect(first != text)
        let folder = try WorkflowsFolder(["armed-response.yaml": Data(first.utf8)])
        let daemon = try DaemonHarness(workflows: folder.url.path, regions: nil)
        try Self.armed.write(to: folder.url.appendingPathComponent("armed-response.yaml"))
        #expect(try daemon.call("io.jointops.Admin.Reload").error == nil)
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("version:") }! + 1
        for older in [first, first + "# edited\n"] {
            try older.write(toFile: folder.path("armed-response.yaml"), atomically: true, encoding: .utf8)
            let reload = try daemon.call("io.jointops.Admin.Reload")
            #expect(reload.error == "io.jointops.Admin.ReloadFailed")
            #expect(
                items(reload.parameters["problems"]).compactMap(\.stringValue) == [
                    "\(folder.path("armed-response.yaml")):\(line):1: error: workflow 'armed-response' version 1 is lower than version 2, which is already stored; raise 'version' in the file above 2: versions only go up, so putting back an older definition makes a new version"
                ])
        }
        let loaded = items(try daemon.call("io.jointops.Operations.Workflows").parameters["workflows"])
        #expect(loaded.map { $0["version"] } == [.int(2)], "\(loaded)")
    }

    @Test func overdueNamesEveryoneAlertedOnce() throws {
        // The assessment's first rung tells the command center, which every miss tells anyway.
        let edited = String(decoding: Self.armed, as: UTF8.self)
            .replacingOccurrences(of: "from: started\n    within: 2m", with: "from: started\n    within: 1s")
            .replacingOccurrences(
                of: "- {after: 0m, notify: duty_commander}\n  - id: perimeter",
                with: "- {after: 0m, notify: command_center}\n  - id: perimeter")
        let folder = try WorkflowsFolder(["armed-response.yaml": Data(edited.utf8)])
        let daemon = try DaemonHarness(workflows: folder.url.path, regions: nil)
        try daemon.startArmed("OP-ONCE")
        var rows: [JSONValue] = []
        for _ in 0..<50 where rows.isEmpty {
            usleep(100_000)
            rows = items(try daemon.call("io.jointops.Operations.Overdue").parameters["overdue"])
        }
        #expect(rows.first?["alerted"] == .array([.string("command_center")]), "\(rows)")
    }
}
