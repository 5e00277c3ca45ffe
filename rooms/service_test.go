package rooms_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

// recorder is a Notifier that keeps every event.
type recorder struct {
	mu  sync.Mutex
	evs []rv.Event
}

func (r *recorder) Notify(_ context.Context, evs ...rv.Event) error {
	r.mu.Lock()
	r.evs = append(r.evs, evs...)
	r.mu.Unlock()
	return nil
}

func (r *recorder) take() []rv.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	evs := r.evs
	r.evs = nil
	return evs
}

func newService(t *testing.T, mod func(*rooms.Config)) (*rooms.Service, *recorder, *fakeclock.Clock) {
	t.Helper()
	clk := fakeclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	tokens, err := auth.NewRoomTokens(auth.RoomTokenConfig{Secret: []byte("0123456789abcdef0123"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	cfg := rooms.Config{Store: memory.NewRoomStore(clk), Tokens: tokens, Notifier: rec, Clock: clk}
	if mod != nil {
		mod(&cfg)
	}
	s, err := rooms.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, rec, clk
}

func TestNewValidatesConfig(t *testing.T) {
	tokens, _ := auth.NewRoomTokens(auth.RoomTokenConfig{Secret: []byte("0123456789abcdef0123")})
	base := rooms.Config{Store: memory.NewRoomStore(nil), Tokens: tokens}
	for name, mod := range map[string]func(*rooms.Config){
		"no store":           func(c *rooms.Config) { c.Store = nil },
		"no tokens":          func(c *rooms.Config) { c.Tokens = nil },
		"alphabet symbols":   func(c *rooms.Config) { c.CodeAlphabet = "AB-" },
		"alphabet too small": func(c *rooms.Config) { c.CodeAlphabet = "aA" },
		"code too long":      func(c *rooms.Config) { c.CodeLength = rooms.MaxCodeLength + 1 },
		"negative users":     func(c *rooms.Config) { c.MaxUsers = -1 },
		"tiny ttl":           func(c *rooms.Config) { c.TTL = time.Millisecond },
		"name bounds":        func(c *rooms.Config) { c.DisplayNameMin, c.DisplayNameMax = 5, 2 },
	} {
		cfg := base
		mod(&cfg)
		if _, err := rooms.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	s, err := rooms.New(base)
	if err != nil {
		t.Fatal(err)
	}
	c := s.Config()
	if c.CodeLength != 4 || c.MaxUsers != 8 || c.TTL != 4*time.Hour || c.DisplayNameMin != 1 || c.DisplayNameMax != 32 || c.CodeAlphabet != rooms.DefaultCodeAlphabet {
		t.Fatalf("defaults %+v", c)
	}
}

func TestCodes(t *testing.T) {
	s, _, _ := newService(t, func(c *rooms.Config) { c.CodeAlphabet, c.CodeLength = "ab", 1 })
	ctx := context.Background()
	seen := map[string]bool{}
	for i := 0; i < 2; i++ {
		tk, err := s.Create(ctx, rooms.CreateRequest{DisplayName: "A"})
		if err != nil {
			t.Fatal(err)
		}
		if tk.RoomCode != "A" && tk.RoomCode != "B" {
			t.Fatalf("code %q outside the upper-cased alphabet", tk.RoomCode)
		}
		seen[tk.RoomCode] = true
	}
	if len(seen) != 2 {
		t.Fatalf("codes %v are not unique", seen)
	}
	_, err := s.Create(ctx, rooms.CreateRequest{DisplayName: "A"})
	if !errors.Is(err, rooms.ErrCodeGenerationFailed) {
		t.Fatalf("every code taken: %v", err)
	}
	for _, bad := range []string{"", "a-b", "room:{x}", "ÄB", "ABCDEFGHIJKLMNOPQ"} {
		if _, err := s.Get(ctx, bad); !errors.Is(err, rooms.ErrRoomNotFound) {
			t.Errorf("Get(%q): %v", bad, err)
		}
	}
}

func TestEventsOfEachOperation(t *testing.T) {
	s, rec, _ := newService(t, nil)
	ctx := context.Background()
	host, _ := s.Create(ctx, rooms.CreateRequest{DisplayName: "Host"})
	bob, _ := s.Join(ctx, host.RoomCode, rooms.JoinRequest{DisplayName: "Bob"})
	carol, _ := s.Join(ctx, host.RoomCode, rooms.JoinRequest{DisplayName: "Carol"})
	code := host.RoomCode
	room, user := rooms.TargetRoom(code), rooms.TargetUser

	type want struct{ target, name, data string }
	check := func(step string, ws ...want) {
		t.Helper()
		evs := rec.take()
		if len(evs) != len(ws) {
			t.Fatalf("%s: %d events %+v, want %d", step, len(evs), evs, len(ws))
		}
		for i, w := range ws {
			e := evs[i]
			if e.Namespace != rooms.Namespace || e.Target != w.target || e.Name != w.name || (w.data != "" && string(e.Data) != w.data) {
				t.Fatalf("%s: event %d = %+v (data %s), want %+v", step, i, e, e.Data, w)
			}
		}
	}
	if _, err := s.SocketConnected(ctx, code, bob.UserID, "s1"); err != nil {
		t.Fatal(err)
	}
	check("connect", want{room, rooms.EventUserConnected, ""})
	if err := s.SocketDisconnected(ctx, code, bob.UserID, "s1"); err != nil {
		t.Fatal(err)
	}
	check("disconnect", want{room, rooms.EventUserDisconnected, ""})
	if locked, err := s.ToggleLock(ctx, code, host.UserID); err != nil || !locked {
		t.Fatal(locked, err)
	}
	check("lock", want{room, rooms.EventLockToggled, `{"isLocked":true}`})
	if err := s.TransferHost(ctx, code, host.UserID, bob.UserID); err != nil {
		t.Fatal(err)
	}
	check("transfer", want{room, rooms.EventHostUpdated, `{"hostId":"` + bob.UserID + `"}`})
	if err := s.Kick(ctx, code, bob.UserID, carol.UserID); err != nil {
		t.Fatal(err)
	}
	check("kick", want{user(carol.UserID), rooms.EventUserKicked, ""}, want{room, rooms.EventUserLeft, `{"reason":"KICKED","userId":"` + carol.UserID + `"}`})
	if err := s.Leave(ctx, code, bob.UserID); err != nil {
		t.Fatal(err)
	}
	check("host leaves", want{user(bob.UserID), "", ""}, want{room, rooms.EventUserLeft, ""}, want{room, rooms.EventHostUpdated, `{"hostId":"` + host.UserID + `"}`})
	if err := s.Leave(ctx, code, host.UserID); err != nil {
		t.Fatal(err)
	}
	check("last leaves", want{user(host.UserID), "", ""}, want{room, rooms.EventClosed, `{"reason":"HOST_LEFT"}`})
	if _, err := s.Get(ctx, code); !errors.Is(err, rooms.ErrRoomNotFound) {
		t.Fatalf("room after last leave: %v", err)
	}
	// A disconnect after leaving is ignored.
	if err := s.SocketDisconnected(ctx, code, bob.UserID, "s1"); err != nil {
		t.Fatal(err)
	}
	check("late disconnect")
}

func TestRoomExpiresAfterInactivity(t *testing.T) {
	s, _, clk := newService(t, func(c *rooms.Config) { c.TTL = time.Hour })
	ctx := context.Background()
	tk, _ := s.Create(ctx, rooms.CreateRequest{DisplayName: "A"})
	clk.Advance(59 * time.Minute)
	if _, err := s.Join(ctx, tk.RoomCode, rooms.JoinRequest{DisplayName: "B"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(59 * time.Minute) // an hour after creation, not after the join
	if _, err := s.Get(ctx, tk.RoomCode); err != nil {
		t.Fatalf("room expired although active: %v", err)
	}
	clk.Advance(2 * time.Minute)
	if _, err := s.Get(ctx, tk.RoomCode); !errors.Is(err, rooms.ErrRoomNotFound) {
		t.Fatalf("room alive after TTL: %v", err)
	}
	if _, _, err := s.Authenticate(ctx, tk.Token); err == nil {
		t.Fatal("token of an expired room accepted")
	}
}
