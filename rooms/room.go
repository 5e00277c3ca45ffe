package rooms

import "time"

// State is the lifecycle state of a room.
type State string

// Room states. A closed room's keys are deleted at once, so stores only
// ever return StateCreated rooms; StateClosed appears in events.
const (
	StateCreated State = "CREATED"
	StateClosed  State = "CLOSED"
)

// Room is a lobby identified by a short code.
type Room struct {
	Code      string    `json:"code"`
	HostID    string    `json:"hostId"`
	IsLocked  bool      `json:"isLocked"`
	MaxUsers  int       `json:"maxUsers"`
	State     State     `json:"state"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Member is one user's membership of a room, as stored.
type Member struct {
	ID          string    `json:"id"`
	DisplayName string    `json:"displayName"`
	JoinedAt    time.Time `json:"joinedAt"`
	// Sockets counts the member's presence entries (see Store.Touch): live
	// ones in what Touch and MembersAt return, every one not yet removed
	// in what Member and Members return.
	Sockets int `json:"sockets"`
}

// User is a member as clients see it in room:state, user:connected and
// user:disconnected.
type User struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	IsConnected bool   `json:"isConnected"`
	IsHost      bool   `json:"isHost"`
}

// Snapshot is the room:state payload: the room and all its members,
// longest-present first.
type Snapshot struct {
	Room  Room   `json:"room"`
	Users []User `json:"users"`
}

// Ticket is what create, join and rejoin return: the room code and a
// connection token for the Socket.IO namespace /rooms.
type Ticket struct {
	RoomCode string `json:"roomCode"`
	Token    string `json:"token"`
	// UserID is the member's id. It is inside the token too; REST responses
	// include it so clients need not decode the token.
	UserID string `json:"userId"`
}

func (m Member) user(hostID string) User {
	return User{ID: m.ID, DisplayName: m.DisplayName, IsConnected: m.Sockets > 0, IsHost: m.ID == hostID}
}
