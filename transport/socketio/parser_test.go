package socketio

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeEnginePacket(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		binary  bool
		want    enginePacket
		wantErr bool
	}{
		{name: "open", in: `0{"sid":"x"}`, want: enginePacket{Type: eioOpen, Data: []byte(`{"sid":"x"}`)}},
		{name: "close", in: "1", want: enginePacket{Type: eioClose}},
		{name: "ping probe", in: "2probe", want: enginePacket{Type: eioPing, Data: []byte("probe")}},
		{name: "pong", in: "3", want: enginePacket{Type: eioPong}},
		{name: "message", in: "4hello", want: enginePacket{Type: eioMessage, Data: []byte("hello")}},
		{name: "message utf8", in: "4€", want: enginePacket{Type: eioMessage, Data: []byte("€")}},
		{name: "upgrade", in: "5", want: enginePacket{Type: eioUpgrade}},
		{name: "noop", in: "6", want: enginePacket{Type: eioNoop}},
		{name: "base64 binary", in: "bAQIDBA==", want: enginePacket{Type: eioMessage, Data: []byte{1, 2, 3, 4}, Binary: true}},
		{name: "base64 unpadded", in: "bAQIDBA", want: enginePacket{Type: eioMessage, Data: []byte{1, 2, 3, 4}, Binary: true}},
		{name: "base64 empty", in: "b", want: enginePacket{Type: eioMessage, Data: []byte{}, Binary: true}},
		{name: "raw binary frame", in: "\x01\x02", binary: true, want: enginePacket{Type: eioMessage, Data: []byte{1, 2}, Binary: true}},
		{name: "empty", in: "", wantErr: true},
		{name: "unknown type 7", in: "7", wantErr: true},
		{name: "unknown type letter", in: "abc", wantErr: true},
		{name: "bad base64", in: "b!!!!", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeEnginePacket([]byte(tt.in), tt.binary)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("expected error, got %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got.Type != tt.want.Type || got.Binary != tt.want.Binary || !bytes.Equal(got.Data, tt.want.Data) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestEnginePacketRoundTrip(t *testing.T) {
	for _, in := range []string{"0{}", "1", "2", "2probe", "3probe", "4hello", "5", "6", "bAQIDBA=="} {
		p, err := decodeEnginePacket([]byte(in), false)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if out := string(appendEnginePacket(nil, p)); out != in {
			t.Fatalf("round trip %q → %q", in, out)
		}
	}
}

func TestDecodePayload(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string // re-encoded packets
		wantErr bool
	}{
		{name: "single", in: "4hello", want: []string{"4hello"}},
		{name: "several", in: "4test1\x1e4test2\x1e4test3", want: []string{"4test1", "4test2", "4test3"}},
		{name: "mixed binary", in: "4hello\x1ebAQIDBA==", want: []string{"4hello", "bAQIDBA=="}},
		{name: "ping pong", in: "3\x1e42[\"a\"]", want: []string{"3", `42["a"]`}},
		{name: "empty body", in: "", wantErr: true},
		{name: "empty packet", in: "4a\x1e\x1e4b", want: []string{"4a"}, wantErr: true},
		{name: "trailing separator", in: "4a\x1e", want: []string{"4a"}, wantErr: true},
		{name: "invalid type", in: "abc", wantErr: true},
		{name: "error after valid", in: "4a\x1ex", want: []string{"4a"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := decodePayload([]byte(tt.in), func(p enginePacket) bool {
				got = append(got, string(appendEnginePacket(nil, p)))
				return true
			})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecodePayloadStop(t *testing.T) {
	n := 0
	err := decodePayload([]byte("1\x1e4a\x1e4b"), func(p enginePacket) bool {
		n++
		return p.Type != eioClose
	})
	if err != nil || n != 1 {
		t.Fatalf("n=%d err=%v", n, err)
	}
}

func TestAppendPayload(t *testing.T) {
	got := string(appendPayload(nil, [][]byte{[]byte("4a"), []byte("2"), []byte("bAQ==")}))
	if got != "4a\x1e2\x1ebAQ==" {
		t.Fatalf("got %q", got)
	}
	if got := appendPayload(nil, nil); len(got) != 0 {
		t.Fatalf("got %q", got)
	}
}

func TestDecodeSocketPacket(t *testing.T) {
	raw := func(ss ...string) []json.RawMessage {
		out := []json.RawMessage{}
		for _, s := range ss {
			out = append(out, json.RawMessage(s))
		}
		return out
	}
	tests := []struct {
		name    string
		in      string
		want    socketPacket
		wantErr bool
	}{
		{name: "connect main", in: "0", want: socketPacket{Type: sioConnect, Nsp: "/"}},
		{name: "connect nsp", in: "0/admin,", want: socketPacket{Type: sioConnect, Nsp: "/admin"}},
		{name: "connect nsp no comma", in: "0/admin", want: socketPacket{Type: sioConnect, Nsp: "/admin"}},
		{name: "connect auth", in: `0{"token":"123"}`, want: socketPacket{Type: sioConnect, Nsp: "/", Data: []byte(`{"token":"123"}`)}},
		{name: "connect nsp auth", in: `0/admin,{"token":"abc"}`, want: socketPacket{Type: sioConnect, Nsp: "/admin", Data: []byte(`{"token":"abc"}`)}},
		{name: "disconnect", in: "1", want: socketPacket{Type: sioDisconnect, Nsp: "/"}},
		{name: "disconnect nsp", in: "1/admin,", want: socketPacket{Type: sioDisconnect, Nsp: "/admin"}},
		{name: "event", in: `2["foo"]`, want: socketPacket{Type: sioEvent, Nsp: "/", Data: []byte(`["foo"]`), Event: "foo", Args: raw()}},
		{name: "event args", in: `2["message",1,"2",{"3":[true]}]`, want: socketPacket{Type: sioEvent, Nsp: "/", Data: []byte(`["message",1,"2",{"3":[true]}]`), Event: "message", Args: raw(`1`, `"2"`, `{"3":[true]}`)}},
		{name: "event nsp ack", in: `2/rooms,12["ev",{"a":1}]`, want: socketPacket{Type: sioEvent, Nsp: "/rooms", ID: 12, HasID: true, Data: []byte(`["ev",{"a":1}]`), Event: "ev", Args: raw(`{"a":1}`)}},
		{name: "event ack", in: `212["foo"]`, want: socketPacket{Type: sioEvent, Nsp: "/", ID: 12, HasID: true, Data: []byte(`["foo"]`), Event: "foo", Args: raw()}},
		{name: "event spaces", in: `2 [ "foo" , 1 ]`, want: socketPacket{Type: sioEvent, Nsp: "/", Data: []byte(` [ "foo" , 1 ]`), Event: "foo", Args: raw(`1`)}},
		{name: "ack", in: `3/admin,13["bar"]`, want: socketPacket{Type: sioAck, Nsp: "/admin", ID: 13, HasID: true, Data: []byte(`["bar"]`), Args: raw(`"bar"`)}},
		{name: "ack empty", in: `312[]`, want: socketPacket{Type: sioAck, Nsp: "/", ID: 12, HasID: true, Data: []byte(`[]`), Args: raw()}},
		{name: "connect error object", in: `4{"message":"Not authorized"}`, want: socketPacket{Type: sioConnectError, Nsp: "/", Data: []byte(`{"message":"Not authorized"}`)}},
		{name: "binary event", in: `51-["baz",{"_placeholder":true,"num":0}]`, want: socketPacket{Type: sioBinaryEvent, Nsp: "/", Attachments: 1, Data: []byte(`["baz",{"_placeholder":true,"num":0}]`), Event: "baz", Args: raw(`{"_placeholder":true,"num":0}`)}},
		{name: "binary event nsp", in: `52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, want: socketPacket{Type: sioBinaryEvent, Nsp: "/admin", Attachments: 2, Data: []byte(`["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), Event: "baz", Args: raw(`{"_placeholder":true,"num":0}`, `{"_placeholder":true,"num":1}`)}},
		{name: "binary ack", in: `61-15["bar",{"_placeholder":true,"num":0}]`, want: socketPacket{Type: sioBinaryAck, Nsp: "/", Attachments: 1, ID: 15, HasID: true, Data: []byte(`["bar",{"_placeholder":true,"num":0}]`), Args: raw(`"bar"`, `{"_placeholder":true,"num":0}`)}},
		{name: "binary zero attachments", in: `50-["x"]`, want: socketPacket{Type: sioBinaryEvent, Nsp: "/", Data: []byte(`["x"]`), Event: "x", Args: raw()}},

		{name: "empty", in: "", wantErr: true},
		{name: "unknown type", in: "7", wantErr: true},
		{name: "letter type", in: "abc", wantErr: true},
		{name: "event object payload", in: "2{}", wantErr: true},
		{name: "event missing payload", in: "2", wantErr: true},
		{name: "event empty array", in: "2[]", wantErr: true},
		{name: "event name not string", in: "2[1]", wantErr: true},
		{name: "event name object", in: `2[{"a":1}]`, wantErr: true},
		{name: "event bad json", in: `2["a",]`, wantErr: true},
		{name: "event trailing garbage", in: `2["a"]x`, wantErr: true},
		{name: "event null", in: `2null`, wantErr: true},
		{name: "invalid ack id", in: `2abc["message-with-ack",1]`, wantErr: true},
		{name: "ack id overflow", in: `299999999999999999999["a"]`, wantErr: true},
		{name: "reserved event", in: `2["disconnect"]`, wantErr: true},
		{name: "reserved event connect", in: `2["connect"]`, wantErr: true},
		{name: "disconnect with payload", in: `1{}`, wantErr: true},
		{name: "connect array", in: `0[]`, wantErr: true},
		{name: "connect string", in: `0"x"`, wantErr: true},
		{name: "connect bad json", in: `0{`, wantErr: true},
		{name: "ack object", in: `31{}`, wantErr: true},
		{name: "ack missing payload", in: `31`, wantErr: true},
		{name: "binary missing dash", in: `51["a"]`, wantErr: true},
		{name: "binary no count", in: `5-["a"]`, wantErr: true},
		{name: "binary count only", in: `51`, wantErr: true},
		{name: "too many attachments", in: `511-["a"]`, wantErr: true},
		{name: "huge attachments", in: `599999999999999999999999-["a"]`, wantErr: true},
		{name: "connect error missing", in: `4`, wantErr: true},
		{name: "connect error array", in: `4[]`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeSocketPacket([]byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("expected error, got %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestEncodeSocketPacket(t *testing.T) {
	tests := []struct {
		p    socketPacket
		want string
	}{
		{socketPacket{Type: sioConnect, Nsp: "/"}, "0"},
		{socketPacket{Type: sioConnect, Nsp: "/admin", Data: []byte(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)}, `0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`},
		{socketPacket{Type: sioConnectError, Nsp: "/", Data: []byte(`{"message":"Not authorized"}`)}, `4{"message":"Not authorized"}`},
		{socketPacket{Type: sioEvent, Nsp: "/", Data: []byte(`["foo"]`)}, `2["foo"]`},
		{socketPacket{Type: sioEvent, Nsp: "/admin", Data: []byte(`["bar"]`)}, `2/admin,["bar"]`},
		{socketPacket{Type: sioEvent, Nsp: "/", ID: 12, HasID: true, Data: []byte(`["foo"]`)}, `212["foo"]`},
		{socketPacket{Type: sioAck, Nsp: "/admin", ID: 13, HasID: true, Data: []byte(`["bar"]`)}, `3/admin,13["bar"]`},
		{socketPacket{Type: sioBinaryEvent, Nsp: "/", Attachments: 1, Data: []byte(`["baz",{"_placeholder":true,"num":0}]`)}, `51-["baz",{"_placeholder":true,"num":0}]`},
		{socketPacket{Type: sioBinaryAck, Nsp: "/", Attachments: 1, ID: 15, HasID: true, Data: []byte(`["bar",{"_placeholder":true,"num":0}]`)}, `61-15["bar",{"_placeholder":true,"num":0}]`},
		{socketPacket{Type: sioDisconnect, Nsp: "/"}, "1"},
		{socketPacket{Type: sioDisconnect, Nsp: "/admin"}, "1/admin,"},
	}
	for _, tt := range tests {
		if got := string(appendSocketPacket(nil, &tt.p)); got != tt.want {
			t.Errorf("encode %+v = %q, want %q", tt.p, got, tt.want)
		}
	}
	if got := string(encodeMessage(sioEvent, "/rooms", 12, []byte(`["ev",{}]`))); got != `42/rooms,12["ev",{}]` {
		t.Errorf("encodeMessage = %q", got)
	}
	if got := string(encodeMessage(sioDisconnect, "/", -1, nil)); got != "41" {
		t.Errorf("encodeMessage = %q", got)
	}
}

func TestEncodeEvent(t *testing.T) {
	got, err := encodeEvent("/chat", "msg", -1, []any{"hi", 1, map[string]bool{"ok": true}, json.RawMessage(`[1]`)})
	if err != nil {
		t.Fatal(err)
	}
	if string(got.pkt) != `42/chat,["msg","hi",1,{"ok":true},[1]]` || got.atts != nil {
		t.Fatalf("got %s", got.pkt)
	}
	got, err = encodeEvent("/", "file", 3, []any{"a.bin", []byte{1, 2}, map[string][]byte{"nested": {3}}, []byte{4}})
	if err != nil {
		t.Fatal(err)
	}
	if string(got.pkt) != `452-3["file","a.bin",{"_placeholder":true,"num":0},{"nested":"Aw=="},{"_placeholder":true,"num":1}]` ||
		!reflect.DeepEqual(got.atts, [][]byte{{1, 2}, {4}}) {
		t.Fatalf("got %s %v", got.pkt, got.atts)
	}
	ack, err := encodeArgs(sioAck, "/x", 7, nil, []any{[]byte{9}})
	if err != nil || string(ack.pkt) != `461-/x,7[{"_placeholder":true,"num":0}]` {
		t.Fatalf("binary ack %s %v", ack.pkt, err)
	}
	ack, err = encodeArgs(sioAck, "/", 7, nil, nil)
	if err != nil || string(ack.pkt) != `437[]` {
		t.Fatalf("empty ack %s %v", ack.pkt, err)
	}
	many := make([]any, maxAttachments+1)
	for i := range many {
		many[i] = []byte{1}
	}
	if _, err := encodeEvent("/", "x", -1, many); err == nil {
		t.Fatal("too many attachments accepted")
	}
	if _, err := encodeEvent("/", "disconnect", -1, nil); err == nil {
		t.Fatal("reserved event accepted")
	}
	if _, err := encodeEvent("/", "x", -1, []any{make(chan int)}); err == nil {
		t.Fatal("unmarshalable arg accepted")
	}
}

func TestEventAttachment(t *testing.T) {
	ev := &Event{
		Name:        "x",
		Args:        []json.RawMessage{json.RawMessage(`{"_placeholder":true,"num":1}`), json.RawMessage(`"s"`), json.RawMessage(`{"_placeholder":true,"num":5}`), json.RawMessage(`{"_placeholder":false,"num":0}`)},
		Attachments: [][]byte{{1}, {2}},
	}
	if b, ok := ev.Attachment(0); !ok || !bytes.Equal(b, []byte{2}) {
		t.Fatalf("Attachment(0) = %v %v", b, ok)
	}
	for _, i := range []int{-1, 1, 2, 3, 4} {
		if _, ok := ev.Attachment(i); ok {
			t.Fatalf("Attachment(%d) ok", i)
		}
	}
}

func TestConnectErrorPayload(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&ConnectError{Message: "unauthorized", Data: map[string]int{"code": 401}}, `{"message":"unauthorized","data":{"code":401}}`},
		{&ConnectError{Message: "no data"}, `{"message":"no data"}`},
		{&ConnectError{Message: "bad data", Data: make(chan int)}, `{"message":"bad data"}`},
		{errString("plain"), `{"message":"plain"}`},
	}
	for _, tt := range tests {
		if got := string(connectErrorPayload(tt.err)); got != tt.want {
			t.Errorf("payload(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestSocketPacketDoesNotAliasArgs(t *testing.T) {
	in := []byte(`2["ev","abc",{"k":[1,2]}]`)
	p, err := decodeSocketPacket(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 'x'
	}
	if p.Event != "ev" || string(p.Args[0]) != `"abc"` || string(p.Args[1]) != `{"k":[1,2]}` {
		t.Fatalf("args alias the input: %q %q", p.Event, p.Args)
	}
	if strings.Contains(string(p.Args[1]), "x") {
		t.Fatal("aliasing")
	}
}
