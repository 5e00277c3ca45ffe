package transport_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/store/memory"
	redisstore "github.com/rendezvous-go/rendezvous/store/redis"
)

// wait bounds every wait for an event that must come: generous, so that a
// loaded machine is never mistaken for a bug.
const wait = 20 * time.Second

func dial(t testing.TB, s *stack) *siotest.Client {
	t.Helper()
	c, err := siotest.Dial(context.Background(), s.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// member connects a socket to /rooms with tk's token and returns it with
// the room:state it received.
func member(t testing.TB, s *stack, tk rooms.Ticket) (*siotest.Client, rooms.Snapshot) {
	t.Helper()
	c := dial(t, s)
	p, err := c.Connect(rooms.Namespace, map[string]string{"token": tk.Token}, wait)
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != 0 {
		t.Fatalf("connect refused: %s", p.Data)
	}
	raw, err := c.WaitEvent(rooms.Namespace, rooms.EventState, wait)
	if err != nil {
		t.Fatal(err)
	}
	var snap rooms.Snapshot
	if err := json.Unmarshal(raw, &snap); err != nil {
		t.Fatal(err)
	}
	return c, snap
}

func connectError(t testing.TB, s *stack, auth any) (message, code string) {
	t.Helper()
	c := dial(t, s)
	p, err := c.Connect(rooms.Namespace, auth, wait)
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != 4 {
		t.Fatalf("connected, want CONNECT_ERROR")
	}
	var e struct {
		Message string `json:"message"`
		Data    struct {
			Code string `json:"code"`
		} `json:"data"`
	}
	if err := json.Unmarshal(p.Data, &e); err != nil {
		t.Fatal(err)
	}
	return e.Message, e.Data.Code
}

// waitConnected waits until c receives user:connected for userID, that
// is until a socket of userID has run its connected step (the client sees
// its CONNECT packet before).
func waitConnected(t testing.TB, c *siotest.Client, userID string) {
	t.Helper()
	match := isUser(userID)
	_, err := c.Wait(wait, func(p siotest.Packet) bool {
		ev, args := p.Event()
		return p.Type == 2 && p.Namespace == rooms.Namespace && ev == rooms.EventUserConnected && len(args) > 0 && match(args[0])
	})
	if err != nil {
		t.Fatalf("no user:connected for %s: %v", userID, err)
	}
}

func waitEvent(t testing.TB, c *siotest.Client, name string, v any) {
	t.Helper()
	raw, err := c.WaitEvent(rooms.Namespace, name, wait)
	if err != nil {
		t.Fatal(err)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("%s payload %s: %v", name, raw, err)
		}
	}
}

func ack(t testing.TB, c *siotest.Client, event string, args ...any) map[string]any {
	t.Helper()
	out, err := c.EmitAck(rooms.Namespace, event, wait, args...)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if len(out) != 1 || json.Unmarshal(out[0], &m) != nil {
		t.Fatalf("ack %s", out)
	}
	return m
}

func ackCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestRoomsSocket(t *testing.T) {
	s := newStack(t, options{})
	host := s.create(t, "Host")
	bob := s.join(t, host.RoomCode, "Bob")
	carol := s.join(t, host.RoomCode, "Carol")

	hc, snap := member(t, s, host)
	if snap.Room.Code != host.RoomCode || len(snap.Users) != 3 || !snap.Users[0].IsHost || !snap.Users[0].IsConnected || snap.Users[1].IsConnected {
		t.Fatalf("room:state %+v", snap)
	}
	var conn struct{ User rooms.User }
	waitEvent(t, hc, rooms.EventUserConnected, &conn)
	if conn.User.ID != host.UserID {
		t.Fatalf("user:connected %+v", conn)
	}
	bc, _ := member(t, s, bob)
	waitEvent(t, hc, rooms.EventUserConnected, &conn)
	if conn.User.ID != bob.UserID || !conn.User.IsConnected || conn.User.DisplayName != "Bob" {
		t.Fatalf("user:connected %+v", conn)
	}
	cc, _ := member(t, s, carol)

	// Host-only controls from a non-host: error:room and a failed ack.
	if m := ack(t, bc, rooms.EventToggleLock); m["ok"] != false || ackCode(m) != "NOT_HOST" {
		t.Fatalf("toggle by non-host: %v", m)
	}
	var er struct{ Code, Message string }
	waitEvent(t, bc, rooms.EventError, &er)
	if er.Code != "NOT_HOST" || er.Message == "" {
		t.Fatalf("error:room %+v", er)
	}

	// Lock, visible to everyone.
	if m := ack(t, hc, rooms.EventToggleLock); m["ok"] != true || m["isLocked"] != true {
		t.Fatalf("toggle ack %v", m)
	}
	var lock struct{ IsLocked bool }
	waitEvent(t, cc, rooms.EventLockToggled, &lock)
	if !lock.IsLocked {
		t.Fatal("lock_toggled false")
	}
	wantError(t, do(t, "POST", s.URL+"/rooms/"+host.RoomCode+"/join", `{"displayName":"Z"}`), 400, "ROOM_LOCKED")

	// Bad payloads.
	if m := ack(t, hc, rooms.EventKick); ackCode(m) != "INVALID_PAYLOAD" {
		t.Fatalf("kick without payload: %v", m)
	}
	if m := ack(t, hc, rooms.EventKick, "nope"); ackCode(m) != "INVALID_PAYLOAD" {
		t.Fatalf("kick with a string: %v", m)
	}
	if m := ack(t, hc, rooms.EventKick, map[string]any{"kickUserId": 5}); ackCode(m) != "INVALID_PAYLOAD" {
		t.Fatalf("kick with a number: %v", m)
	}
	if m := ack(t, hc, rooms.EventKick, map[string]string{"kickUserId": host.UserID}); ackCode(m) != "CANNOT_KICK_SELF" {
		t.Fatalf("kick self: %v", m)
	}
	if m := ack(t, hc, rooms.EventKick, map[string]string{"kickUserId": "nobody"}); ackCode(m) != "MEMBER_NOT_FOUND" {
		t.Fatalf("kick stranger: %v", m)
	}
	if m := ack(t, hc, rooms.EventTransferHost, map[string]string{"newHostId": host.UserID}); ackCode(m) != "ALREADY_HOST" {
		t.Fatalf("transfer to self: %v", m)
	}

	// Kick Carol: she gets user:kicked and is disconnected; others get user:left.
	if m := ack(t, hc, rooms.EventKick, map[string]string{"kickUserId": carol.UserID}); m["ok"] != true {
		t.Fatalf("kick: %v", m)
	}
	waitEvent(t, cc, rooms.EventUserKicked, nil)
	if err := cc.WaitDisconnect(rooms.Namespace, wait); err != nil {
		t.Fatal(err)
	}
	var left struct{ Reason, UserID string }
	waitEvent(t, bc, rooms.EventUserLeft, &left)
	if left.Reason != "KICKED" || left.UserID != carol.UserID {
		t.Fatalf("user:left %+v", left)
	}
	if _, code := connectError(t, s, map[string]string{"token": carol.Token}); code != "MEMBER_NOT_FOUND" {
		t.Fatalf("kicked token: %s", code)
	}

	// Transfer host to Bob, then the old host can no longer kick.
	if m := ack(t, hc, rooms.EventTransferHost, map[string]string{"newHostId": bob.UserID}); m["ok"] != true {
		t.Fatalf("transfer: %v", m)
	}
	var hu struct{ HostID string }
	waitEvent(t, hc, rooms.EventHostUpdated, &hu)
	if hu.HostID != bob.UserID {
		t.Fatalf("host_updated %+v", hu)
	}
	if m := ack(t, hc, rooms.EventClose); ackCode(m) != "NOT_HOST" {
		t.Fatalf("close by former host: %v", m)
	}

	// Bob closes: everyone gets room:closed and is disconnected; tokens die.
	if m := ack(t, bc, rooms.EventClose); m["ok"] != true {
		t.Fatalf("close: %v", m)
	}
	var closed struct{ Reason string }
	for _, c := range []*siotest.Client{hc, bc} {
		waitEvent(t, c, rooms.EventClosed, &closed)
		if closed.Reason != "HOST_CLOSED" {
			t.Fatalf("room:closed %+v", closed)
		}
		if err := c.WaitDisconnect(rooms.Namespace, wait); err != nil {
			t.Fatal(err)
		}
	}
	if _, code := connectError(t, s, map[string]string{"token": host.Token}); code != "ROOM_NOT_FOUND" {
		t.Fatalf("token of a closed room: %s", code)
	}
}

func TestRoomsSocketConnectErrors(t *testing.T) {
	s := newStack(t, options{})
	if msg, code := connectError(t, s, nil); code != "TOKEN_MISSING" || msg == "" {
		t.Fatalf("no token: %q %q", msg, code)
	}
	if _, code := connectError(t, s, map[string]string{"token": "x.y.z"}); code != "TOKEN_INVALID" {
		t.Fatalf("bad token: %q", code)
	}
	if _, code := connectError(t, s, map[string]any{"token": 42}); code != "TOKEN_MISSING" {
		t.Fatalf("numeric token: %q", code)
	}
	// The Authorization header of the handshake works too.
	tk := s.create(t, "A")
	c, err := siotest.Dial(context.Background(), s.URL, map[string]string{"Authorization": "Bearer " + tk.Token})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := c.Connect(rooms.Namespace, nil, wait)
	if err != nil || p.Type != 0 {
		t.Fatalf("header token: %v %s", err, p.Data)
	}
}

func TestRoomsLeaveAndHostSuccession(t *testing.T) {
	s := newStack(t, options{})
	host := s.create(t, "Host")
	bob := s.join(t, host.RoomCode, "Bob")
	carol := s.join(t, host.RoomCode, "Carol")
	hc, _ := member(t, s, host)
	cc, _ := member(t, s, carol)

	if m := ack(t, hc, rooms.EventLeave); m["ok"] != true {
		t.Fatalf("leave: %v", m)
	}
	if err := hc.WaitDisconnect(rooms.Namespace, wait); err != nil {
		t.Fatal(err)
	}
	var left struct{ Reason, UserID string }
	waitEvent(t, cc, rooms.EventUserLeft, &left)
	var hu struct{ HostID string }
	waitEvent(t, cc, rooms.EventHostUpdated, &hu)
	if left.Reason != "LEFT" || left.UserID != host.UserID || hu.HostID != bob.UserID {
		t.Fatalf("left %+v, new host %q, want Bob %q (longest present)", left, hu.HostID, bob.UserID)
	}
	if _, code := connectError(t, s, map[string]string{"token": host.Token}); code != "MEMBER_NOT_FOUND" {
		t.Fatalf("left token: %s", code)
	}
}

func TestRoomsCloseOnHostLeave(t *testing.T) {
	s := newStack(t, options{closeOnHostLeave: true})
	host := s.create(t, "Host")
	bob := s.join(t, host.RoomCode, "Bob")
	hc, _ := member(t, s, host)
	bc, _ := member(t, s, bob)
	ack(t, hc, rooms.EventLeave)
	var closed struct{ Reason string }
	waitEvent(t, bc, rooms.EventClosed, &closed)
	if closed.Reason != "HOST_LEFT" {
		t.Fatalf("room:closed %+v", closed)
	}
	if err := bc.WaitDisconnect(rooms.Namespace, wait); err != nil {
		t.Fatal(err)
	}
}

// disconnectWatch is a room store that reports every presence entry
// removed, with the member as stored after the removal.
type disconnectWatch struct {
	rooms.Store
	closed chan rooms.Member
}

func (w disconnectWatch) Untouch(ctx context.Context, wr rooms.Write, code, userID, socketID string) (bool, error) {
	last, err := w.Store.Untouch(ctx, wr, code, userID, socketID)
	if err == nil {
		m, _ := w.Store.Member(ctx, code, userID)
		w.closed <- m
	}
	return last, err
}

func TestUserDisconnectedOnLastSocket(t *testing.T) {
	watch := disconnectWatch{Store: memory.NewRoomStore(nil), closed: make(chan rooms.Member, 16)}
	s := newStack(t, options{store: watch})
	host := s.create(t, "Host")
	bob := s.join(t, host.RoomCode, "Bob")
	hc, _ := member(t, s, host)
	b1, _ := member(t, s, bob)
	b2, _ := member(t, s, bob)
	waitConnected(t, hc, bob.UserID)
	waitConnected(t, hc, bob.UserID)
	b1.Close()
	select {
	case m := <-watch.closed:
		if m.ID != bob.UserID || m.Sockets != 1 {
			t.Fatalf("closing one of Bob's two sockets left %+v", m)
		}
	case <-time.After(wait):
		t.Fatal("the server did not record the closed socket")
	}
	// Anything the closed socket published reaches the host before the
	// lock toggle published after it.
	ack(t, hc, rooms.EventToggleLock)
	waitEvent(t, hc, rooms.EventLockToggled, nil)
	for _, n := range hc.Events(rooms.Namespace) {
		if n == rooms.EventUserDisconnected {
			t.Fatal("user:disconnected while Bob still has a socket")
		}
	}
	b2.Close()
	var d struct{ User rooms.User }
	waitEvent(t, hc, rooms.EventUserDisconnected, &d)
	if d.User.ID != bob.UserID || d.User.IsConnected {
		t.Fatalf("user:disconnected %+v", d)
	}
}

func TestSocketEventRateLimit(t *testing.T) {
	s := newStack(t, options{eventRate: 1})
	host := s.create(t, "Host")
	hc, _ := member(t, s, host)
	var limited bool
	for i := 0; i < 25 && !limited; i++ {
		limited = ackCode(ack(t, hc, rooms.EventToggleLock)) == "RATE_LIMITED"
	}
	if !limited {
		t.Fatal("25 events at once were all allowed with a burst of 20")
	}
}

func TestMalformedPacketClosesOnlyThatConnection(t *testing.T) {
	s := newStack(t, options{})
	host := s.create(t, "Host")
	hc, _ := member(t, s, host)
	bad := dial(t, s)
	_ = bad.Send(`42/rooms,["room:leave"`) // not connected to /rooms and malformed
	_ = bad.Send(`4Z`)
	if _, err := bad.Wait(wait, func(siotest.Packet) bool { return false }); err == siotest.ErrTimeout {
		t.Fatal("malformed packet did not close the connection")
	}
	if m := ack(t, hc, rooms.EventToggleLock); m["ok"] != true {
		t.Fatalf("server unusable after a malformed packet: %v", m)
	}
}

// Two transports on one Redis behave as one server: events and
// disconnections reach sockets on the other instance.
func TestTwoInstancesShareRedis(t *testing.T) {
	client, prefix := testenv.Redis(t)
	store := redisstore.NewRoomStore(client, prefix)
	s1 := newStack(t, options{store: store, broker: redisstore.NewBroker(client, prefix), limiter: redisstore.NewRateLimiter(client, prefix)})
	s2 := newStack(t, options{store: store, broker: redisstore.NewBroker(client, prefix), limiter: redisstore.NewRateLimiter(client, prefix)})

	host := s1.create(t, "Host")
	bob := s2.join(t, host.RoomCode, "Bob")
	carol := s2.join(t, host.RoomCode, "Carol")
	hc, _ := member(t, s1, host)
	bc, snap := member(t, s2, bob)
	if len(snap.Users) != 3 {
		t.Fatalf("room:state on instance 2: %+v", snap)
	}
	cc, _ := member(t, s2, carol)

	var conn struct{ User rooms.User }
	for conn.User.ID != carol.UserID {
		waitEvent(t, hc, rooms.EventUserConnected, &conn)
	}
	ack(t, hc, rooms.EventToggleLock)
	var lock struct{ IsLocked bool }
	waitEvent(t, bc, rooms.EventLockToggled, &lock)
	if !lock.IsLocked {
		t.Fatal("lock not seen on instance 2")
	}
	// A kick on instance 1 disconnects Carol on instance 2.
	ack(t, hc, rooms.EventKick, map[string]string{"kickUserId": carol.UserID})
	waitEvent(t, cc, rooms.EventUserKicked, nil)
	if err := cc.WaitDisconnect(rooms.Namespace, wait); err != nil {
		t.Fatal(err)
	}
	// A close on instance 2 (after a transfer) disconnects the host on instance 1.
	ack(t, hc, rooms.EventTransferHost, map[string]string{"newHostId": bob.UserID})
	if m := ack(t, bc, rooms.EventClose); m["ok"] != true {
		t.Fatalf("close on instance 2: %v", m)
	}
	var closed struct{ Reason string }
	waitEvent(t, hc, rooms.EventClosed, &closed)
	if err := hc.WaitDisconnect(rooms.Namespace, wait); err != nil {
		t.Fatal(err)
	}
	// The rate limit is shared too: exactly when every request asks the
	// Limiter (ThrottleSync < 0)...
	s3 := newStack(t, options{store: store, broker: redisstore.NewBroker(client, prefix), limiter: redisstore.NewRateLimiter(client, prefix), throttle: 2, throttleSync: -1})
	s4 := newStack(t, options{store: store, broker: redisstore.NewBroker(client, prefix), limiter: redisstore.NewRateLimiter(client, prefix), throttle: 2, throttleSync: -1})
	s3.create(t, "A")
	s4.create(t, "A")
	wantError(t, do(t, "POST", s3.URL+"/rooms", `{"displayName":"A"}`), 429, "RATE_LIMITED")
	// ...and local-first (the default) within the documented overshoot:
	// an instance that warmed a key before the other's hits admits up to
	// the limit on its own count, one that warms it after refuses at once.
	// (The routes' keys are per client IP, shared with s3 and s4 above:
	// this uses another route.)
	s5 := newStack(t, options{store: store, broker: redisstore.NewBroker(client, prefix), limiter: redisstore.NewRateLimiter(client, prefix), throttle: 2})
	s6 := newStack(t, options{store: store, broker: redisstore.NewBroker(client, prefix), limiter: redisstore.NewRateLimiter(client, prefix), throttle: 2})
	tk, err := s5.Rooms.Create(context.Background(), rooms.CreateRequest{DisplayName: "A"})
	if err != nil {
		t.Fatal(err)
	}
	get := func(s *stack) response { return do(t, "GET", s.URL+"/rooms/"+tk.RoomCode, "") }
	if r := get(s5); r.Status != 200 { // s5 warms the key: count 1
		t.Fatalf("GET on s5: %d", r.Status)
	}
	if r := get(s6); r.Status != 200 { // s6 warms it: count 2
		t.Fatalf("GET on s6: %d", r.Status)
	}
	wantError(t, get(s6), 429, "RATE_LIMITED") // s6 knows the shared count
	if r := get(s5); r.Status != 200 {         // s5 has not synced: one over
		t.Fatalf("GET on s5 before its sync: %d, want 200 (the bounded overshoot)", r.Status)
	}
	wantError(t, get(s5), 429, "RATE_LIMITED") // at most 2 × limit in all
}
