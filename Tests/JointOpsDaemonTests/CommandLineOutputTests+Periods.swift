import Foundation
import Testing

extension CommandLineOutputTests {
    /// Reproducer: `report --from 999999999999d` crashed jointopsctl (an arithmetic overflow
    /// as it turned the span into milliseconds). A span ago is refused past 100 years, before
    /// any connection is made.
    @Test func aSpanAgoBeyondAHundredYearsIsAUsageError() throws {
        let socket = "/tmp/jointops-no-daemon-\(getpid()).sock"
        for span in ["999999999999d", "36501d", "876001h", "52560001m"] {
            let output = try Self.ctl(["report", "--from", span], socket: socket)
            #expect(output.status == 64, "\(span): \(output.stderr)")
            #expect(
                output.stderr.contains("--from '\(span)' is too far back: a span ago is at most 100 years (36500d, 876000h or 52560000m)"),
                "\(output.stderr)")
        }
        let within = try Self.ctl(["report", "--from", "36500d"], socket: socket)
        #expect(within.status != 64, "100 years is accepted (then the daemon is not there): \(within.stderr)")
    }

    /// Reproducer: `report --from 2026-02-31` was taken as 3 March (as a full time), or
    /// refused as "not a time" with no word on why (as a date).
    @Test func aDayThatDoesNotExistIsRefusedSayingSo() throws {
        let socket = "/tmp/jointops-no-daemon-\(getpid()).sock"
        let date = try Self.ctl(["report", "--from", "2026-02-31"], socket: socket)
        #expect(date.status == 64)
        #expect(
            date.stderr.contains("--from '2026-02-31' is not a day: 2026-02-31 does not exist: February 2026 has 28 days"), "\(date.stderr)"
        )
        let time = try Self.ctl(["report", "--to", "2026-02-29T00:00:00+08:00"], socket: socket)
        #expect(time.status == 64)
        #expect(
            time.stderr.contains("--to '2026-02-29T00:00:00+08:00' is not a time: 2026-02-29 does not exist: February 2026 has 28 days"),
            "\(time.stderr)")
    }
}

extension CommandLineOutputTests {
    /// Reproducer: `report --json --csv` printed the JSON reply and dropped --csv without a
    /// word. The two formats are refused together, as a usage error, before any connection.
    @Test func csvAndJsonTogetherAreAUsageError() throws {
        let socket = "/tmp/jointops-no-daemon-\(getpid()).sock"
        for arguments in [
            ["report", "--json", "--csv"], ["report", "--csv", "--from", "1d", "--json"], ["report", "period", "--csv", "--json"],
        ] {
            let output = try Self.ctl(arguments, socket: socket)
            #expect(output.status == 64, "\(arguments): \(output.stderr)")
            #expect(output.stdout == "")
            #expect(
                output.stderr.hasPrefix(
                    "Error: give --csv or --json, not both: choose one format (--csv for a spreadsheet, --json for scripts)\n"),
                "\(arguments): \(output.stderr)")
        }
        for format in ["--csv", "--json"] {
            let one = try Self.ctl(["report", format], socket: socket)
            #expect(one.status == 69, "\(format) alone is accepted (then the daemon is not there): \(one.stderr)")
        }
    }

    @Test func markdownAndJsonTogetherAreAUsageError() throws {
        let socket = "/tmp/jointops-no-daemon-\(getpid()).sock"
        let output = try Self.ctl(["report", "operation", "OP-1", "--markdown", "--json"], socket: socket)
        #expect(output.status == 64, "\(output.stderr)")
        #expect(output.stdout == "")
        #expect(
            output.stderr.hasPrefix(
                "Error: give --markdown or --json, not both: choose one format (--markdown for a review, --json for scripts)\n"),
            "\(output.stderr)")
        for format in ["--markdown", "--json"] {
            let one = try Self.ctl(["report", "operation", "OP-1", format], socket: socket)
            #expect(one.status == 69, "\(format) alone is accepted (then the daemon is not there): \(one.stderr)")
        }
    }
}

extension CommandLineOutputTests {
    /// Reproducer: `units change U --capability armed --no-capabilities` was sent as "these
    /// capabilities", and the unit kept `armed`: the flag was dropped without a word.
    @Test func capabilitiesAndNoCapabilitiesTogetherAreAUsageError() throws {
        let socket = "/tmp/jointops-no-daemon-\(getpid()).sock"
        let output = try Self.ctl(["units", "change", "hx-swat-01", "--capability", "armed", "--no-capabilities"], socket: socket)
        #expect(output.status == 64, "\(output.stderr)")
        #expect(output.stdout == "")
        #expect(
            output.stderr.hasPrefix(
                "Error: --no-capabilities removes every capability and --capability replaces them: give one or the other\n"),
            "\(output.stderr)")
        let one = try Self.ctl(["units", "change", "hx-swat-01", "--no-capabilities"], socket: socket)
        #expect(one.status == 69, "--no-capabilities alone is accepted (then the daemon is not there): \(one.stderr)")
    }
}
