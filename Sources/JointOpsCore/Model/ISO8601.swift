/// Minimal, allocation-light ISO 8601 formatting and parsing in UTC, so Core needs no
/// Foundation date machinery (civil-from-days after Howard Hinnant's algorithms).
public enum ISO8601 {
    /// `2026-11-29T08:00:00Z` (milliseconds shown only when not zero).
    public static func format(_ instant: Instant, offsetSeconds: Int = 0) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(32)
        write(instant, offsetSeconds: offsetSeconds, to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends the text `format` gives to `text`, byte by byte: the operation view writes
    /// several per reply, and a String for each cost an allocation and a UTF-8 check.
    public static func write(_ instant: Instant, offsetSeconds: Int = 0, to text: inout [UInt8]) {
        let local = (instant + Int64(offsetSeconds) * 1000).milliseconds
        let millis = Int(((local % 1000) + 1000) % 1000)
        let seconds = (local - Int64(millis)) / 1000
        let days = Int(floorDiv(seconds, 86_400))
        let secondOfDay = Int(seconds - Int64(days) * 86_400)
        let (y, m, d) = civil(fromDays: days)
        func put(_ character: Unicode.Scalar) { text.append(UInt8(ascii: character)) }
        /// Two digits, written in place (no reversing as `padded` does).
        func two(_ value: Int) {
            text.append(UInt8(truncatingIfNeeded: 48 + value / 10))
            text.append(UInt8(truncatingIfNeeded: 48 + value % 10))
        }
        if (0...9999).contains(y) {
            two(y / 100)
            two(y % 100)
        } else {
            padded(y, 4, to: &text)
        }
        put("-")
        two(m)
        put("-")
        two(d)
        put("T")
        two(secondOfDay / 3600)
        put(":")
        two(secondOfDay / 60 % 60)
        put(":")
        two(secondOfDay % 60)
        if millis != 0 {
            put(".")
            text.append(UInt8(truncatingIfNeeded: 48 + millis / 100))
            two(millis % 100)
        }
        if offsetSeconds == 0 {
            put("Z")
        } else {
            put(offsetSeconds < 0 ? "-" : "+")
            let magnitude = abs(offsetSeconds)
            two(magnitude / 3600 % 100)
            put(":")
            two(magnitude / 60 % 60)
        }
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.f…](Z|±HH:MM)`: a fraction of 1 to 9 digits (kept to the
    /// millisecond), `z` as well as `Z`, and `±HHMM` as well as `±HH:MM`. Nil when it is
    /// malformed, or names a day that does not exist (2026-02-30) or an offset beyond ±18:00;
    /// `problem(_:)` says which.
    public static func parse(_ text: String) -> Instant? {
        if case .time(let instant) = read(text) { return instant }
        return nil
    }

    /// Why `parse` refuses `text` though it has the form of a time: "2026-02-31 does not
    /// exist: February 2026 has 28 days", or "the offset +19:00 is beyond ±18:00". Nil when
    /// it parses, or has not that form at all (the caller says which form to use).
    public static func problem(_ text: String) -> String? {
        if case .invalid(let reason) = read(text) { return reason }
        return nil
    }

    /// Why a date does not exist ("2026-02-29 does not exist: February 2026 has 28 days"),
    /// or nil if it does; `month` must be 1…12.
    public static func dayProblem(year: Int, month: Int, day: Int) -> String? {
        let length = daysIn(month: month, of: year)
        guard day < 1 || day > length else { return nil }
        let names = [
            "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
        ]
        let date = "\(year)-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)"
        return "\(date) does not exist: \(names[month - 1]) \(year) has \(length) days"
    }

    static func daysIn(month: Int, of year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private enum Reading {
        case time(Instant)
        case malformed
        case invalid(String)
    }

    private static func read(_ text: String) -> Reading {
        let chars = Array(text.utf8)
        func number(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= chars.count else { return nil }
            var value = 0
            for c in chars[start..<start + count] {
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
            }
            return value
        }
        guard chars.count >= 20, chars[4] == 45, chars[7] == 45, chars[10] == 84 || chars[10] == 32,
            chars[13] == 58, chars[16] == 58,
            let y = number(0, 4), let mo = number(5, 2), let d = number(8, 2),
            let h = number(11, 2), let mi = number(14, 2), let s = number(17, 2),
            (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61
        else { return .malformed }
        if let problem = dayProblem(year: y, month: mo, day: d) { return .invalid(problem) }
        var index = 19
        var millis = 0
        if index < chars.count, chars[index] == 46 {
            // 1 to 9 digits; the first three are the milliseconds (.5 is 500 ms).
            var digits = 0
            while index + 1 + digits < chars.count, let digit = number(index + 1 + digits, 1) {
                if digits < 3 { millis = millis * 10 + digit }
                digits += 1
            }
            guard (1...9).contains(digits) else { return .malformed }
            for _ in digits..<max(digits, 3) { millis *= 10 }
            index += 1 + digits
        }
        var offset = 0
        guard index < chars.count else { return .malformed }
        if chars[index] == 90 || chars[index] == 122, index == chars.count - 1 {
            offset = 0
        } else if chars[index] == 43 || chars[index] == 45, let oh = number(index + 1, 2),
            let om = chars.count == index + 6 && chars[index + 3] == 58
                ? number(index + 4, 2) : chars.count == index + 5 ? number(index + 3, 2) : nil,
            om < 60
        {
            guard oh * 60 + om <= 18 * 60 else {
                let sign = chars[index] == 45 ? "-" : "+"
                return .invalid("the offset \(sign)\(oh < 10 ? "0" : "")\(oh):\(om < 10 ? "0" : "")\(om) is beyond ±18:00")
            }
            offset = (oh * 3600 + om * 60) * (chars[index] == 45 ? -1 : 1)
        } else {
            return .malformed
        }
        let days = Int64(daysFromCivil(y, mo, d))
        let seconds = days * 86_400 + Int64(h * 3600 + mi * 60 + s) - Int64(offset)
        return .time(Instant(milliseconds: seconds * 1000 + Int64(millis)))
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    /// `value` in decimal, left-padded with zeros to `width` (a sign counts in the width).
    private static func padded(_ value: Int, _ width: Int, to text: inout [UInt8]) {
        let start = text.count
        var rest = value.magnitude
        repeat {
            text.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        if value < 0 { text.append(UInt8(ascii: "-")) }
        while text.count - start < width { text.append(UInt8(ascii: "0")) }
        text[start...].reverse()
    }
}
