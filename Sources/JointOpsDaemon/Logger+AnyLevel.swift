import Logging

extension Logger {
    /// Logs `message` at notice level whatever `log_level` says: the logger's level, if it is
    /// higher, is lowered for this entry alone, and the entry keeps its true priority (notice,
    /// 5, in the journal). For the event log's head lines, which docs/storage.md tells
    /// administrators to compare with the records they keep off the machine: one a start and
    /// one a verify, which `log_level: warning` must not lose.
    func noticeAtAnyLevel(
        _ message: @autoclosure () -> Logger.Message, metadata: Logger.Metadata? = nil, file: String = #fileID,
        function: String = #function, line: UInt = #line
    ) {
        var logger = self
        if logger.logLevel > .notice { logger.logLevel = .notice }
        logger.notice(message(), metadata: metadata, file: file, function: function, line: line)
    }
}
