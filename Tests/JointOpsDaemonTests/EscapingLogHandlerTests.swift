import Testing

@testable import JointOpsDaemon

/// The stderr log (jointopsd not under journald) takes text an operator wrote: it must not
/// drive the terminal of whoever reads the log, nor forge an entry of its own.
@Suite struct EscapingLogHandlerTests {
    @Test func controlCharactersAreEscapedAndLaterLinesIndented() {
        let hostile = "OP-1: note: \u{1B}]0;PWNED\u{7}\u{1B}[2Jfine\r2026-11-30T00:00:00+0000 critical jointopsd: forged\u{202E}"
        #expect(
            EscapingLogHandler.safe(hostile)
                == #"OP-1: note: \u{1B}]0;PWNED\u{7}\u{1B}[2Jfine\r2026-11-30T00:00:00+0000 critical jointopsd: forged\u{202E}"#)
        #expect(
            EscapingLogHandler.safe("reload failed; the problems:\na.yaml:1:1: error: x\nb.yaml:2:2: error: y")
                == "reload failed; the problems:\n    a.yaml:1:1: error: x\n    b.yaml:2:2: error: y")
        #expect(EscapingLogHandler.safe("plain 河西 text") == "plain 河西 text")
    }
}
