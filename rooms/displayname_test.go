package rooms_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/rooms"
)

func TestDisplayNameRule(t *testing.T) {
	s, _, _ := newService(t, nil)
	ctx := context.Background()
	host, err := s.Create(ctx, rooms.CreateRequest{DisplayName: "Host"})
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]string{
		"ZWJ alone":             "\u200d",
		"Hangul filler":         "\u3164",
		"braille blank":         "\u2800",
		"line separator inside": "a\u2028b",
		"paragraph separator":   "a\u2029b",
		"replacement character": "a\ufffdb",
		"invalid UTF-8":         "a\xffb",
		"zero width space":      "\u200b",
		"bidi override":         "\u202eevil",
		"private use":           "\ue000",
		"control":               "a\x00b",
	} {
		for op, call := range map[string]func() error{
			"create": func() error { _, err := s.Create(ctx, rooms.CreateRequest{DisplayName: in}); return err },
			"join":   func() error { _, err := s.Join(ctx, host.RoomCode, rooms.JoinRequest{DisplayName: in}); return err },
		} {
			if err := call(); !errors.Is(err, rooms.ErrInvalidDisplayName) {
				t.Errorf("%s with %s (%+q): %v, want ErrInvalidDisplayName", op, name, in, err)
			}
		}
	}
	for _, in := range []string{"👩\u200d👩\u200d👧", "🇫🇷", "Jos\u00e9", "Jose\u0301", "李小龍", "محمد", "می\u200cخواهم"} {
		if _, err := s.Join(ctx, host.RoomCode, rooms.JoinRequest{DisplayName: in}); err != nil && !errors.Is(err, rooms.ErrRoomFull) {
			t.Errorf("join as %+q: %v", in, err)
		}
	}
}

// TestMessagesQuoteAShortPrefix: no error message of the service carries
// more than 64 bytes of what the client sent.
func TestMessagesQuoteAShortPrefix(t *testing.T) {
	s, _, _ := newService(t, nil)
	ctx := context.Background()
	host, _ := s.Create(ctx, rooms.CreateRequest{DisplayName: "Host"})
	long := strings.Repeat("Z", 200)
	for name, call := range map[string]func() error{
		"long name":             func() error { _, err := s.Create(ctx, rooms.CreateRequest{DisplayName: long}); return err },
		"long name with filler": func() error { _, err := s.Create(ctx, rooms.CreateRequest{DisplayName: long + "\u3164"}); return err },
		"long code":             func() error { _, err := s.Get(ctx, long); return err },
		"long join code":        func() error { _, err := s.Join(ctx, long, rooms.JoinRequest{DisplayName: "A"}); return err },
		"long kick target":      func() error { return s.Kick(ctx, host.RoomCode, host.UserID, long) },
		"long new host":         func() error { return s.TransferHost(ctx, host.RoomCode, host.UserID, long) },
		"long token":            func() error { _, err := s.Rejoin(ctx, host.RoomCode, long); return err },
	} {
		err := call()
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if msg := rv.AsError(err).Message; strings.Contains(msg, strings.Repeat("Z", 65)) {
			t.Errorf("%s: the message %q echoes more than 64 bytes of the input", name, msg)
		}
	}
}
