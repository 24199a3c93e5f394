/// Which way a packet travels relative to the protected server.
public enum Direction: String, Sendable {
    /// From a client or peer to the server (INPUT): requests, and responses to the server's requests.
    case inbound
    /// From the server (OUTPUT): its responses, which tell whether requests failed.
    case outbound
}
