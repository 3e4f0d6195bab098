/// A human title in Chinese, English or both.
public struct Title: Sendable, Hashable, Codable, CustomStringConvertible {
    public var zh: String?
    public var en: String?

    public init(zh: String? = nil, en: String? = nil) {
        self.zh = zh
        self.en = en
    }

    /// "中文 / English", or whichever exists.
    public var description: String {
        switch (zh, en) {
        case (let zh?, let en?): "\(zh) / \(en)"
        case (let zh?, nil): zh
        case (nil, let en?): en
        case (nil, nil): ""
        }
    }
}
