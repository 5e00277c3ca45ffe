package rooms_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/rooms"
)

// presenceEvents lists the user:connected and user:disconnected events as
// "<name> <user id> <isConnected>", and room:closed as "room:closed
// <reason> disconnect=<bool>".
func presenceEvents(t *testing.T, evs []rv.Event) []string {
	t.Helper()
	var out []string
	for _, ev := range evs {
		var body struct {
			User   rooms.User `json:"user"`
			Reason string     `json:"reason"`
		}
		if err := json.Unmarshal(ev.Data, &body); err != nil {
			t.Fatalf("event %s: %v", ev.Name, err)
		}
		switch ev.Name {
		case rooms.EventUserConnected, rooms.EventUserDisconnected:
			out = append(out, fmt.Sprintf("%s %s %v", ev.Name, body.User.ID, body.User.IsConnected))
		case rooms.EventClosed:
			out = append(out, fmt.Sprintf("%s %s disconnect=%v", ev.Name, body.Reason, ev.Disconnect))
		}
	}
	return out
}

func wantEvents(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: events %q, want %q", what, got, want)
	}
}

// connected returns the isConnected of each member of the room:state
// snapshot, by id.
func connected(t *testing.T, s *rooms.Service, code string) map[string]bool {
	t.Helper()
	snap, err := s.State(context.Background(), code)
	if err != nil {
		t.Fatalf("State: %v", err)
	}
	m := map[string]bool{}
	for _, u := range snap.Users {
		m[u.ID] = u.IsConnected
	}
	return m
}

func TestPresenceConfig(t *testing.T) {
	s, _, _ := newService(t, nil)
	if got := s.Config().PresenceTTL; got != 30*time.Second {
		t.Errorf("default PresenceTTL %v, want 30s", got)
	}
	_, err := rooms.New(rooms.Config{Store: s.Config().Store, Tokens: s.Config().Tokens, PresenceTTL: 500 * time.Millisecond})
	if err == nil {
		t.Errorf("PresenceTTL 500ms accepted")
	}
}

func TestSocketPresenceEvents(t *testing.T) {
	s, rec, _ := newService(t, nil)
	ctx := context.Background()
	host, _ := s.Create(ctx, rooms.CreateRequest{DisplayName: "Host"})
	bob, _ := s.Join(ctx, host.RoomCode, rooms.JoinRequest{DisplayName: "Bob"})
	code := host.RoomCode
	rec.take()

	for _, sock := range []string{"s1", "s2"} {
		u, err := s.SocketConnected(ctx, code, bob.UserID, sock)
		if err != nil || u.ID != bob.UserID || !u.IsConnected || u.DisplayName != "Bob" {
			t.Fatalf("SocketConnected(%s) = %+v, %v", sock, u, err)
		}
	}
	want := "user:connected " + bob.UserID + " true"
	wantEvents(t, "two sockets connect", presenceEvents(t, rec.take()), want, want)
	if c := connected(t, s, code); !c[bob.UserID] || c[host.UserID] {
		t.Errorf("state after connect: %v, want only bob connected", c)
	}

	if err := s.SocketDisconnected(ctx, code, bob.UserID, "s1"); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "one of two sockets goes", presenceEvents(t, rec.take()))
	if err := s.SocketDisconnected(ctx, code, bob.UserID, "s2"); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "the last socket goes", presenceEvents(t, rec.take()), "user:disconnected "+bob.UserID+" false")
	if c := connected(t, s, code); c[bob.UserID] {
		t.Errorf("state after the last socket: %v, want bob not connected", c)
	}

	if _, err := s.SocketConnected(ctx, code, "stranger", "s9"); !errors.Is(err, rooms.ErrMemberNotFound) {
		t.Errorf("SocketConnected of a non-member: %v, want ErrMemberNotFound", err)
	}
	if err := s.SocketDisconnected(ctx, "ZZZZ", bob.UserID, "s1"); err != nil {
		t.Errorf("SocketDisconnected in a missing room: %v, want nil", err)
	}
}

func TestSweepAnnouncesCrashedSocketsOnce(t *testing.T) {
	s, rec, clk := newService(t, nil)
	ctx := context.Background()
	host, _ := s.Create(ctx, rooms.CreateRequest{DisplayName: "Host"})
	bob, _ := s.Join(ctx, host.RoomCode, rooms.JoinRequest{DisplayName: "Bob"})
	code := host.RoomCode
	ttl := s.Config().PresenceTTL
	if _, err := s.SocketConnected(ctx, code, host.UserID, "h1"); err != nil {
		t.Fatal(err)
	}
	// Bob's socket is on an instance that crashes: it is never refreshed.
	if _, err := s.SocketConnected(ctx, code, bob.UserID, "b1"); err != nil {
		t.Fatal(err)
	}
	rec.take()
	for elapsed := time.Duration(0); elapsed < ttl+ttl/2; elapsed += ttl / 3 {
		clk.Advance(ttl / 3)
		if err := s.Refresh(ctx, code, host.UserID, "h1"); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
	}
	wantEvents(t, "refreshes", presenceEvents(t, rec.take()))
	if c := connected(t, s, code); c[bob.UserID] || !c[host.UserID] {
		t.Errorf("state once bob's entry expired, before any sweep: %v, want only host connected", c)
	}

	// Many sweepers at once, as from many instances: one announcement.
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if err := s.Sweep(ctx, code); err != nil {
				t.Errorf("Sweep: %v", err)
			}
		})
	}
	wg.Wait()
	wantEvents(t, "concurrent sweeps", presenceEvents(t, rec.take()), "user:disconnected "+bob.UserID+" false")
	if err := s.Sweep(ctx, code); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "another sweep", presenceEvents(t, rec.take()))

	// A socket that comes back after its entry was swept is announced.
	if err := s.Refresh(ctx, code, bob.UserID, "b1"); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "refresh after the sweep", presenceEvents(t, rec.take()), "user:connected "+bob.UserID+" true")
	if c := connected(t, s, code); !c[bob.UserID] {
		t.Errorf("state after bob's refresh: %v, want bob connected", c)
	}
}

func TestSweepOfAGoneRoom(t *testing.T) {
	ctx := context.Background()
	t.Run("expired", func(t *testing.T) {
		s, rec, clk := newService(t, nil)
		host, _ := s.Create(ctx, rooms.CreateRequest{DisplayName: "Host"})
		code := host.RoomCode
		if _, err := s.SocketConnected(ctx, code, host.UserID, "h1"); err != nil {
			t.Fatal(err)
		}
		rec.take()
		clk.Advance(s.Config().TTL)
		if err := s.Refresh(ctx, code, host.UserID, "h1"); !errors.Is(err, rooms.ErrRoomNotFound) {
			t.Errorf("Refresh in an expired room: %v, want ErrRoomNotFound", err)
		}
		if err := s.Sweep(ctx, code); err != nil {
			t.Fatal(err)
		}
		wantEvents(t, "sweep of an expired room", presenceEvents(t, rec.take()), "room:closed EXPIRED disconnect=true")
	})
	t.Run("closed", func(t *testing.T) {
		s, rec, _ := newService(t, nil)
		host, _ := s.Create(ctx, rooms.CreateRequest{DisplayName: "Host"})
		code := host.RoomCode
		if _, err := s.SocketConnected(ctx, code, host.UserID, "h1"); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(ctx, code, host.UserID); err != nil {
			t.Fatal(err)
		}
		rec.take()
		if err := s.Sweep(ctx, code); err != nil {
			t.Fatal(err)
		}
		wantEvents(t, "sweep of a closed room", presenceEvents(t, rec.take()))
	})
}
