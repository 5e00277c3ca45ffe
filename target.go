package rendezvous

// UserTarget is the Event target that reaches every socket of one user in a
// namespace: "user:<id>". Transports join a user's sockets to it (the
// /rooms namespace, and the namespaces guarded by an access token), and
// features publish to it.
func UserTarget(userID string) string { return "user:" + userID }

// RoomTarget is the Event target that reaches every socket of one room:
// "room:<code>".
func RoomTarget(code string) string { return "room:" + code }
