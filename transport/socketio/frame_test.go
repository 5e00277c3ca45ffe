package socketio

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/gobwas/ws"
)

// A broadcast is encoded once, and framed for WebSocket once, whatever its
// number of recipients: here 300 WebSocket clients (enough for the writes
// to be split between goroutines) and one polling client, with a binary
// attachment. Every WebSocket client reads the same text frame then the
// same binary frame; the polling client the same packet and the
// attachment in base64.
func TestBroadcastEncodedOnce(t *testing.T) {
	srv, ts := newTestServer(t, Config{Logger: discardLogger(), EventRate: -1})
	ns := srv.Of("/")
	ns.OnConnect(func(ctx context.Context, s *Socket, auth json.RawMessage) error {
		s.Join("r")
		return nil
	})
	const n = 300
	clients := make([]*wsClient, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range clients {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := tryDialWS(eioURL(ts, "transport=websocket"), nil)
			if err != nil {
				t.Error(err)
				return
			}
			c.t = t
			clients[i] = c
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, c := range clients {
		t.Cleanup(func() { c.conn.Close() })
		if msg := c.read(); !strings.HasPrefix(msg, "0") {
			t.Fatalf("open packet %q", msg)
		}
		c.connect("/", "")
	}
	p := newPollClient(t, ts)
	p.mustPost("40")
	if got := p.nextPackets(); len(got) != 1 || !strings.HasPrefix(got[0], `40{"sid":"`) {
		t.Fatalf("polling connect: %q", got)
	}
	if got := ns.RoomSize("r"); got != n+1 {
		t.Fatalf("room size %d, want %d", got, n+1)
	}

	encoded, framed := eventsEncoded.Load(), framesBuilt.Load()
	ns.Emit("r", "news", json.RawMessage(`{"n":1}`), []byte{1, 2, 3})
	if got := eventsEncoded.Load() - encoded; got != 1 {
		t.Errorf("event encoded %d times for %d recipients, want once", got, n+1)
	}
	if got := framesBuilt.Load() - framed; got != 1 {
		t.Errorf("WebSocket frames built %d times for %d recipients, want once", got, n)
	}

	const want = `451-["news",{"n":1},{"_placeholder":true,"num":0}]`
	for i, c := range clients {
		msg, op, err := c.readMsg(testTimeout)
		if err != nil || op != ws.OpText || msg != want {
			t.Fatalf("client %d: %q (%v, %v), want %q", i, msg, op, err, want)
		}
		msg, op, err = c.readMsg(testTimeout)
		if err != nil || op != ws.OpBinary || msg != "\x01\x02\x03" {
			t.Fatalf("client %d attachment: %q (%v, %v)", i, msg, op, err)
		}
	}
	var got []string
	for len(got) < 2 {
		got = append(got, p.nextPackets()...)
	}
	if len(got) != 2 || got[0] != want || got[1] != "bAQID" {
		t.Fatalf("polling client: %q", got)
	}
}

// appendFrame writes the three length forms of RFC 6455 that a server
// frame may use; gobwas/ws reads them back.
func TestAppendFrame(t *testing.T) {
	for _, size := range []int{0, 1, 125, 126, 127, 0xffff, 0x10000, 70000} {
		p := bytes.Repeat([]byte{'x'}, size)
		b := appendFrame([]byte("lead"), ws.OpText, p)
		if !bytes.HasPrefix(b, []byte("lead")) {
			t.Fatalf("size %d: prefix lost", size)
		}
		f, err := ws.ReadFrame(bytes.NewReader(b[4:]))
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !f.Header.Fin || f.Header.OpCode != ws.OpText || f.Header.Masked || !bytes.Equal(f.Payload, p) {
			t.Fatalf("size %d: header %+v, payload of %d bytes", size, f.Header, len(f.Payload))
		}
		if want := ws.HeaderSize(ws.Header{Length: int64(size)}) + size; len(b)-4 != want {
			t.Fatalf("size %d: frame of %d bytes, want %d", size, len(b)-4, want)
		}
	}
}

// The packet encodeEvent builds without json.Marshal, for json.RawMessage
// arguments, is byte for byte the one json.Marshal builds, and arguments
// json.Marshal would change (whitespace, escaped characters) or refuse
// (invalid JSON) go the general way.
func TestEncodeVerbatimMatchesMarshal(t *testing.T) {
	raws := []string{
		`{"isLocked":true}`, `1`, `"x"`, `null`, `[]`, `{"a":"b c","d":[1,2,{"e":"\"\\"}]}`,
		`{"s":"caf\u00e9 € —"}`, "{\"s\":\"caf\xc3\xa9\"}",
		`{ "a": 1 }`, "[1,\n2]", `{"h":"<b>"}`, `{"h":"a&b"}`, "{\"l\":\"\xe2\x80\xa8\"}", "{\"l\":\"\xe2\x80\xa9\"}",
		`{"bad":`, ``, `{"a":1}x`,
	}
	names := []string{"room:lock_toggled", "with space", "quo\"te", "<tag>", "é", "tab\t"}
	for _, name := range names {
		for _, raw := range raws {
			for _, id := range []int64{-1, 7} {
				args := []any{json.RawMessage(raw)}
				got, gerr := encodeEvent("/rooms", name, id, args)
				want, werr := encodeArgs(sioEvent, "/rooms", id, []any{name}, args)
				if (gerr != nil) != (werr != nil) || !bytes.Equal(got.pkt, want.pkt) {
					t.Errorf("%q %q id %d: got %q (%v), json.Marshal gives %q (%v)", name, raw, id, got.pkt, gerr, want.pkt, werr)
				}
			}
		}
		got, _ := encodeEvent("/", name, -1, nil)
		want, _ := encodeArgs(sioEvent, "/", -1, []any{name}, nil)
		if !bytes.Equal(got.pkt, want.pkt) {
			t.Errorf("%q without arguments: got %q, want %q", name, got.pkt, want.pkt)
		}
	}
	for _, raw := range raws[:8] {
		if _, ok := encodeVerbatim("/", "room:lock_toggled", -1, []any{json.RawMessage(raw)}); !ok {
			t.Errorf("%q was not passed through", raw)
		}
	}
	if _, ok := encodeVerbatim("/", "ev", -1, []any{"a string"}); ok {
		t.Error("a string argument was passed through")
	}
}

// FuzzEncodeVerbatim: for any event name and raw argument, encodeEvent
// gives the bytes json.Marshal gives.
func FuzzEncodeVerbatim(f *testing.F) {
	f.Add("room:lock_toggled", []byte(`{"isLocked":true}`))
	f.Add("a", []byte(`{"h":"<\u2028>"}`))
	f.Add("b", []byte("[1, 2]"))
	f.Fuzz(func(t *testing.T, name string, raw []byte) {
		args := []any{json.RawMessage(raw)}
		got, gerr := encodeEvent("/f", name, -1, args)
		want, werr := encodeArgs(sioEvent, "/f", -1, []any{name}, args)
		if (gerr != nil) != (werr != nil) || !bytes.Equal(got.pkt, want.pkt) {
			t.Fatalf("%q %q: got %q (%v), json.Marshal gives %q (%v)", name, raw, got.pkt, gerr, want.pkt, werr)
		}
	})
}
