package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/api"
	"github.com/rendezvous-go/rendezvous/internal/siotest"
)

// asyncAPIDoc is what the socket traffic test reads of api/asyncapi.json.
type asyncAPIDoc struct {
	Channels map[string]struct {
		Address  string `json:"address"`
		Messages map[string]struct {
			Name    string          `json:"name"`
			Payload json.RawMessage `json:"payload"`
		} `json:"messages"`
	} `json:"channels"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

// check fails unless payload (nil for none) fits the documented message
// name of namespace ns: a message without payload gets none, and one with
// a payload gets a JSON object with the schema's required keys.
func (d *asyncAPIDoc) check(t *testing.T, ns, name string, payload json.RawMessage) {
	t.Helper()
	for _, ch := range d.Channels {
		if ch.Address != ns {
			continue
		}
		for _, m := range ch.Messages {
			if m.Name != name {
				continue
			}
			if m.Payload == nil {
				if payload != nil {
					t.Errorf("%s %s: a payload the document does not describe: %s", ns, name, payload)
				}
				return
			}
			var got map[string]json.RawMessage
			if err := json.Unmarshal(payload, &got); err != nil {
				t.Errorf("%s %s: payload is not a JSON object: %s", ns, name, payload)
				return
			}
			schemas := &openAPIDoc{}
			schemas.Components.Schemas = d.Components.Schemas
			required, _ := schemas.schemaFacts(m.Payload)
			for _, k := range required {
				if _, ok := got[k]; !ok {
					t.Errorf("%s %s: payload lacks %q: %s", ns, name, k, payload)
				}
			}
			return
		}
	}
	t.Errorf("%s %s: not documented", ns, name)
}

// TestSocketTrafficMatchesAsyncAPI drives /rooms through its events and
// refused connects of the user namespaces, and checks each packet against
// api/asyncapi.json.
func TestSocketTrafficMatchesAsyncAPI(t *testing.T) {
	var doc asyncAPIDoc
	if err := json.Unmarshal(api.AsyncAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	base, _ := start(t, nil)
	const wait = 10 * time.Second
	ticket := func(path, body string) (string, string) {
		_, b := post(t, base+path, body)
		var tk struct{ RoomCode, Token, UserID string }
		if err := json.Unmarshal(b, &tk); err != nil {
			t.Fatal(err)
		}
		return tk.Token, tk.UserID
	}
	dial := func() *siotest.Client {
		c, err := siotest.Dial(context.Background(), base, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	event := func(c *siotest.Client, ns, name string) {
		t.Helper()
		p, err := c.WaitPacket(ns, name, wait)
		if err != nil {
			t.Fatalf("%s %s: %v", ns, name, err)
		}
		_, args := p.Event()
		var payload json.RawMessage
		if len(args) > 0 {
			payload = args[0]
		}
		doc.check(t, ns, name, payload)
	}
	ack := func(args []json.RawMessage, err error) {
		t.Helper()
		if err != nil || len(args) == 0 {
			t.Fatalf("ack: %v %v", args, err)
		}
		doc.check(t, "/rooms", "ack", args[0])
	}

	_, b := post(t, base+"/rooms", `{"displayName":"Host"}`)
	var room struct{ RoomCode, Token string }
	_ = json.Unmarshal(b, &room)
	guestToken, guestID := ticket("/rooms/"+room.RoomCode+"/join", `{"displayName":"Guest"}`)
	thirdToken, thirdID := ticket("/rooms/"+room.RoomCode+"/join", `{"displayName":"Third"}`)
	fourthToken, _ := ticket("/rooms/"+room.RoomCode+"/join", `{"displayName":"Fourth"}`)

	host, guest, third, fourth := dial(), dial(), dial(), dial()
	if p, err := host.Connect("/rooms", map[string]string{"token": room.Token}, wait); err != nil || p.Type != 0 {
		t.Fatalf("host connect: %v %s", err, p.Data)
	}
	event(host, "/rooms", "room:state")
	event(host, "/rooms", "user:connected")
	for _, c := range []struct {
		cl  *siotest.Client
		tok string
	}{{guest, guestToken}, {third, thirdToken}, {fourth, fourthToken}} {
		if p, err := c.cl.Connect("/rooms", map[string]string{"token": c.tok}, wait); err != nil || p.Type != 0 {
			t.Fatalf("connect: %v %s", err, p.Data)
		}
		event(c.cl, "/rooms", "room:state")
		event(host, "/rooms", "user:connected")
	}

	ack(host.EmitAck("/rooms", "room:toggle_lock", wait))
	event(host, "/rooms", "room:lock_toggled")
	ack(guest.EmitAck("/rooms", "room:kick", wait, map[string]string{"kickUserId": thirdID}))
	event(guest, "/rooms", "error:room")
	ack(host.EmitAck("/rooms", "room:kick", wait, map[string]string{"kickUserId": thirdID}))
	event(third, "/rooms", "user:kicked")
	event(host, "/rooms", "user:left")
	ack(host.EmitAck("/rooms", "room:transfer_host", wait, map[string]string{"newHostId": guestID}))
	event(host, "/rooms", "room:host_updated")
	ack(fourth.EmitAck("/rooms", "room:leave", wait))
	event(guest, "/rooms", "user:left")
	_ = host.Close() // the former host's only socket
	event(guest, "/rooms", "user:disconnected")
	ack(guest.EmitAck("/rooms", "room:close", wait))
	event(guest, "/rooms", "room:closed")

	// Refused connects, in every namespace.
	c := dial()
	for _, ns := range []string{"/rooms", "/queue", "/video", "/chat"} {
		p, err := c.Connect(ns, map[string]string{"token": "nonsense"}, wait)
		if err != nil || p.Type != 4 {
			t.Fatalf("%s: %v %s", ns, err, p.Data)
		}
		doc.check(t, ns, "connect_error", p.Data)
		if !strings.Contains(string(p.Data), `"TOKEN_INVALID"`) {
			t.Errorf("%s: %s", ns, p.Data)
		}
	}
}
