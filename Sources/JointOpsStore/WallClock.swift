import Foundation
public import JointOpsCore

/// The real time, to the millisecond: what the daemon stamps commands, timers and store
/// faults with. Core never reads it (time is an input there); the store and the daemon read
/// it here, and only here.
public enum WallClock {
    public static func now() -> Instant { Instant(milliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded())) }
}
