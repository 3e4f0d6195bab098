/// The result of an accepted command: the events to make durable, then the effects to carry out.
public struct Transition: Sendable {
    public var events: [RecordedEvent] = []
    public var effects: [Effect] = []

    public init() {}
}
