import Foundation

/// The terminal as a screen: the alternate buffer, no cursor, raw keys for `q`; restored
/// on every way out (q, Ctrl-C, SIGTERM).
enum FullScreen {
    nonisolated(unsafe) private static var saved = termios()
    nonisolated(unsafe) private static var entered = false

    static var columns: Int {
        var size = winsize()
        return ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 120
    }

    static func enter() {
        tcgetattr(STDIN_FILENO, &saved)
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        for signal in [SIGINT, SIGTERM] {
            Foundation.signal(signal) { _ in
                FullScreen.leave()
                _exit(0)
            }
        }
        entered = true
        write("\u{1B}[?1049h\u{1B}[?25l")
    }

    /// Gives the terminal back; a second call does nothing (an error leaves early, to be
    /// printed on the normal screen, and the `defer` comes after).
    static func leave() {
        guard entered else { return }
        entered = false
        write("\u{1B}[?25h\u{1B}[?1049l")
        tcsetattr(STDIN_FILENO, TCSANOW, &saved)
    }

    static func draw(_ text: String) {
        write("\u{1B}[H\u{1B}[2J" + text.replacingOccurrences(of: "\n", with: "\r\n"))
    }

    /// Whether `q` was pressed (reads what is waiting on stdin without blocking).
    static func quitRequested() -> Bool {
        var input = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        guard poll(&input, 1, 0) > 0 else { return false }
        var byte: UInt8 = 0
        return read(STDIN_FILENO, &byte, 1) == 1 && (byte == UInt8(ascii: "q") || byte == 3)
    }

    private static func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = Glibc.write(STDOUT_FILENO, &bytes, bytes.count)
    }
}
