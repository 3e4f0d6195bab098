import Glibc
import Testing

@testable import JointOpsDaemon

/// The open-file limit against the connection limits (reproducer: run by hand with the usual
/// soft limit of 1024 and max_connections above it, jointopsd ran out of descriptors and
/// crashed; it now raises the soft limit to the hard one and says when even that is short).
@Suite struct OpenFileLimitTests {
    @Test func theSoftLimitIsRaisedToTheHardOne() {
        let now = OpenFileLimit.raise()
        var limit = rlimit()
        #expect(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0)
        #expect(limit.rlim_cur == limit.rlim_max)
        #expect(now == Int(clamping: limit.rlim_max))
    }

    @Test func connectionLimitsTheDescriptorsCannotHoldAreSaid() {
        // 1000 connections, 1000 refusals at once, 128 beside them.
        let warning = OpenFileLimit.shortfall(ConnectionLimits(total: 1000), limit: 1024)
        #expect(
            warning
                == "max_connections 1000 may take up to 2128 file descriptors, more than jointopsd may open (1024): raise LimitNOFILE= (systemctl edit jointopsd) or ulimit -n, or lower max_connections; out of descriptors, connections fail"
        )
        #expect(OpenFileLimit.shortfall(ConnectionLimits(total: 256), limit: 65_536) == nil, "the unit's LimitNOFILE=65536")
        #expect(OpenFileLimit.shortfall(ConnectionLimits(total: 100), limit: 1024) == nil, "100 + 256 refusals + 128")
    }
}
