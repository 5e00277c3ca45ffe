package socketio

import (
	"bytes"
	"reflect"
	"testing"
)

func FuzzDecodeEnginePacket(f *testing.F) {
	for _, s := range []string{"0{}", "1", "2probe", "3", "4hello", "5", "6", "bAQIDBA==", "", "7", "b!", "4\x1e"} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte{1, 2, 3}, true)
	f.Fuzz(func(t *testing.T, in []byte, binary bool) {
		p, err := decodeEnginePacket(in, binary)
		if err != nil {
			return
		}
		if binary {
			if !p.Binary || !bytes.Equal(p.Data, in) {
				t.Fatalf("binary frame not passed through: %+v", p)
			}
			return
		}
		out := appendEnginePacket(nil, p)
		if !p.Binary {
			// Text packets round-trip exactly.
			if !bytes.Equal(out, in) {
				t.Fatalf("round trip %q → %q", in, out)
			}
			return
		}
		// Base64 packets re-encode canonically and decode to the same bytes.
		q, err := decodeEnginePacket(out, false)
		if err != nil || !bytes.Equal(q.Data, p.Data) {
			t.Fatalf("binary round trip %q → %q: %v", in, out, err)
		}
	})
}

func FuzzDecodePayload(f *testing.F) {
	for _, s := range []string{"4hello", "4test1\x1e4test2\x1e4test3", "4hello\x1ebAQIDBA==", "", "\x1e", "3\x1e1", "abc", `42["a",1]` + "\x1e" + `42/x,3["b"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var packets [][]byte
		textOnly := true
		err := decodePayload(in, func(p enginePacket) bool {
			if p.Binary {
				textOnly = false
			}
			packets = append(packets, appendEnginePacket(nil, p))
			return true
		})
		if err != nil {
			return
		}
		out := appendPayload(nil, packets)
		if textOnly && !bytes.Equal(out, in) {
			t.Fatalf("round trip %q → %q", in, out)
		}
		// Re-decoding the re-encoded payload gives the same packets.
		var again [][]byte
		if err := decodePayload(out, func(p enginePacket) bool {
			again = append(again, appendEnginePacket(nil, p))
			return true
		}); err != nil {
			t.Fatalf("re-encoded payload %q does not decode: %v", out, err)
		}
		if !reflect.DeepEqual(again, packets) {
			t.Fatalf("payload not stable: %q vs %q", again, packets)
		}
	})
}

func FuzzDecodeSocketPacket(f *testing.F) {
	for _, s := range []string{
		"0", "0/admin,", `0{"token":"123"}`, "1/admin,", `2["foo"]`, `2/rooms,12["ev",{"a":1}]`,
		`3/admin,13["bar"]`, `4{"message":"x"}`, `51-["baz",{"_placeholder":true,"num":0}]`,
		`61-15["bar",{"_placeholder":true,"num":0}]`, "2{}", `2abc["x"]`, "511-[]", "", "9",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := decodeSocketPacket(in)
		if err != nil {
			return
		}
		// decode(encode(decode(x))) == decode(x)
		out := appendSocketPacket(nil, p)
		q, err := decodeSocketPacket(out)
		if err != nil {
			t.Fatalf("re-encoded %q → %q does not decode: %v", in, out, err)
		}
		p.Data, q.Data = nil, nil
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip mismatch for %q:\n%+v\n%+v", in, p, q)
		}
	})
}
