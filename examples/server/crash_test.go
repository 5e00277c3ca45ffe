package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/rooms"
)

// TestProcessCrashReleasesPresence runs two server processes on one Redis
// with a one-second presence TTL. Member A's socket is on instance 1 and
// host B's on instance 2; instance 1 is killed with SIGKILL, so nothing
// runs its disconnect handlers: the sweeps of instance 2 must tell B that
// A is gone, exactly once, and a fresh connect must see A disconnected.
func TestProcessCrashReleasesPresence(t *testing.T) {
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	_, prefix := testenv.Redis(t)
	vars := map[string]string{
		"REDIS_URL": testenv.RedisURL(t), "REDIS_PREFIX": prefix,
		"JWT_SECRET":           "crash-secret-crash-secret-crash-secret",
		"PRESENCE_TTL_SECONDS": "1",
	}
	p1 := startProcess(t, "crash-1", vars)
	p2 := startProcess(t, "crash-2", vars)
	const wait = 30 * time.Second

	created := request(t, "POST", p2.base+"/rooms", `{"displayName":"B"}`)
	var b struct{ RoomCode, UserID, Token string }
	if created.status != 201 || json.Unmarshal([]byte(created.body), &b) != nil {
		t.Fatalf("create: %d %s", created.status, created.body)
	}
	joined := request(t, "POST", p1.base+"/rooms/"+b.RoomCode+"/join", `{"displayName":"A"}`)
	var a struct{ UserID, Token string }
	if joined.status != 200 && joined.status != 201 || json.Unmarshal([]byte(joined.body), &a) != nil {
		t.Fatalf("join: %d %s", joined.status, joined.body)
	}

	bc := roomSocket(t, p2.base, b.Token)
	roomSocket(t, p1.base, a.Token) // open until instance 1 dies
	waitUserEvent(t, bc, rooms.EventUserConnected, a.UserID, wait)

	if err := p1.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	<-p1.exited

	u := waitUserEvent(t, bc, rooms.EventUserDisconnected, a.UserID, wait)
	if u.IsConnected {
		t.Fatalf("user:disconnected %+v", u)
	}
	// Everything published before the toggle reaches B before its
	// room:lock_toggled: no second user:disconnected for A by then.
	if _, err := bc.EmitAck("/rooms", rooms.EventToggleLock, wait); err != nil {
		t.Fatal(err)
	}
	if _, err := bc.WaitEvent("/rooms", rooms.EventLockToggled, wait); err != nil {
		t.Fatal(err)
	}
	if _, err := bc.Wait(0, isUserEvent(rooms.EventUserDisconnected, a.UserID)); err == nil {
		t.Fatal("user:disconnected for A arrived twice")
	}

	fresh := siotestDial(t, p2.base)
	if p, err := fresh.Connect("/rooms", map[string]string{"token": b.Token}, wait); err != nil || p.Type != 0 {
		t.Fatalf("fresh connect: %+v %v", p, err)
	}
	raw, err := fresh.WaitEvent("/rooms", rooms.EventState, wait)
	if err != nil {
		t.Fatal(err)
	}
	var snap rooms.Snapshot
	if err := json.Unmarshal(raw, &snap); err != nil {
		t.Fatal(err)
	}
	for _, u := range snap.Users {
		if u.ID == a.UserID && u.IsConnected {
			t.Fatalf("room:state after the crash shows A connected: %+v", snap.Users)
		}
	}
}

func siotestDial(t *testing.T, base string) *siotest.Client {
	t.Helper()
	c, err := siotest.Dial(context.Background(), base, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roomSocket connects a socket to /rooms with token and waits for its
// room:state.
func roomSocket(t *testing.T, base, token string) *siotest.Client {
	t.Helper()
	c := siotestDial(t, base)
	p, err := c.Connect("/rooms", map[string]string{"token": token}, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != 0 {
		t.Fatalf("connect refused: %s", p.Data)
	}
	if _, err := c.WaitEvent("/rooms", rooms.EventState, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return c
}

func isUserEvent(name, userID string) func(siotest.Packet) bool {
	return func(p siotest.Packet) bool {
		ev, args := p.Event()
		if p.Type != 2 || p.Namespace != "/rooms" || ev != name || len(args) == 0 {
			return false
		}
		var d struct{ User rooms.User }
		return json.Unmarshal(args[0], &d) == nil && d.User.ID == userID
	}
}

// waitUserEvent waits for the event name about userID on c.
func waitUserEvent(t *testing.T, c *siotest.Client, name, userID string, timeout time.Duration) rooms.User {
	t.Helper()
	p, err := c.Wait(timeout, isUserEvent(name, userID))
	if err != nil {
		t.Fatalf("no %s for %s: %v", name, userID, err)
	}
	_, args := p.Event()
	var d struct{ User rooms.User }
	if err := json.Unmarshal(args[0], &d); err != nil {
		t.Fatal(err)
	}
	return d.User
}
